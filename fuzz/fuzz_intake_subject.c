/* The intake's triage helpers that read submitted text without the
   database: the subject key (duplicate detection), the content hash
   (idempotent retries), the partner match and the sender rate, each held
   to what intake_triage.h promises. The input is the subject; split at
   0x1f bytes it is also the fields of a submission for the hash. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "intake_triage.h"

enum { SUBMISSION_FIELDS = 12 };

/* Lower-cased, prefixes gone, single spaces inside, none at either end. */
static void s_check_subject_key(const char *subject)
{
    char *key = intake_subject_key(subject);
    FUZZ_ASSERT(key, "no key");
    size_t length = strlen(key);
    FUZZ_ASSERT(length <= strlen(subject), "the key is longer than the subject");
    FUZZ_ASSERT(!length || (key[0] != ' ' && key[length - 1] != ' '), "key '%s' has outer spaces",
                key);
    FUZZ_ASSERT(!strstr(key, "  "), "key '%s' has a run of spaces", key);
    for (const char *p = key; *p; p++) {
        FUZZ_ASSERT(*p == ' ' || !isspace((unsigned char)*p), "key '%s' has a space other than ' '",
                    key);
        FUZZ_ASSERT(!isupper((unsigned char)*p), "key '%s' has a capital", key);
    }
    /* A key is its own key: two subjects with one key must compare equal
       however often they are normalised. */
    char *again = intake_subject_key(key);
    FUZZ_ASSERT(again && strcmp(again, key) == 0, "key '%s' of '%s' normalises again to '%s'", key,
                subject, again ? again : "(null)");
    free(again);
    free(key);
}

/* Fields of a submission: the input cut at 0x1f, the last pieces as areas. */
typedef struct {
    char *copy;                      /* the input, cut in place */
    char *fields[SUBMISSION_FIELDS]; /* into copy; "" when the input ran out */
    char *areas[4];                  /* into copy */
    size_t n_areas;                  /* areas used */
} pieces_t;

static void s_cut(const uint8_t *data, size_t size, pieces_t *pieces)
{
    memset(pieces, 0, sizeof *pieces);
    pieces->copy = malloc(size + 1);
    FUZZ_ASSERT(pieces->copy, "out of memory");
    memcpy(pieces->copy, data, size);
    pieces->copy[size] = 0;
    char *next = pieces->copy;
    for (size_t i = 0; i < SUBMISSION_FIELDS + 4; i++) {
        char *piece = next ? next : "";
        char *cut = next ? strchr(next, 0x1f) : NULL;
        if (cut)
            *cut = 0;
        next = cut ? cut + 1 : NULL;
        if (i < SUBMISSION_FIELDS)
            pieces->fields[i] = piece;
        else if (*piece)
            pieces->areas[pieces->n_areas++] = piece;
    }
}

static char *s_hash(char *const *fields, char **areas, size_t n_areas)
{
    Dp__EnquirySubmission s = DP__ENQUIRY_SUBMISSION__INIT;
    char **slots[SUBMISSION_FIELDS] = {
        &s.source, &s.idempotency_key, &s.sender_name, &s.email,    &s.organisation, &s.country,
        &s.kind,   &s.subject,         &s.body,        &s.language, &s.received_at,  &s.honeypot};
    for (size_t i = 0; i < SUBMISSION_FIELDS; i++)
        *slots[i] = fields[i];
    s.areas = areas;
    s.n_areas = n_areas;
    char *hash = intake_content_hash(&s);
    FUZZ_ASSERT(hash && strlen(hash) == 40 && strspn(hash, "0123456789abcdefABCDEF") == 40,
                "content hash '%s' is not 40 hex digits", hash ? hash : "(null)");
    return hash;
}

/* Moving one byte from a field into the one before it changes the
   submission, so it must change the hash: fields go in with their lengths. */
static void s_check_content_hash(const uint8_t *data, size_t size)
{
    pieces_t pieces;
    s_cut(data, size, &pieces);
    char *hash = s_hash(pieces.fields, pieces.areas, pieces.n_areas);
    for (size_t i = 0; i + 1 < SUBMISSION_FIELDS; i++) {
        size_t left = strlen(pieces.fields[i]), right = strlen(pieces.fields[i + 1]);
        if (!right)
            continue;
        char *moved[SUBMISSION_FIELDS];
        memcpy(moved, pieces.fields, sizeof moved);
        char *joined = malloc(left + 2);
        FUZZ_ASSERT(joined, "out of memory");
        memcpy(joined, pieces.fields[i], left);
        joined[left] = pieces.fields[i + 1][0];
        joined[left + 1] = 0;
        moved[i] = joined;
        moved[i + 1] = pieces.fields[i + 1] + 1;
        char *other = s_hash(moved, pieces.areas, pieces.n_areas);
        FUZZ_ASSERT(strcmp(hash, other) != 0, "fields %zu and %zu moved a byte, same hash %s", i,
                    i + 1, hash);
        free(other);
        free(joined);
        break;
    }
    free(hash);
    free(pieces.copy);
}

/* No partner map is loaded, so nothing matches; the sender limit of one an
   hour counts the address without regard to case, and a retry gives its
   count back. */
static void s_check_sender(const char *email)
{
    intake_triage_t *triage = intake_triage_new(1);
    FUZZ_ASSERT(triage, "out of memory");
    int64_t partner_id = 0;
    const char *slug = NULL;
    FUZZ_ASSERT(!intake_triage_match_partner(triage, email, &partner_id, &slug),
                "matched a partner with no map");
    FUZZ_ASSERT(intake_triage_area_known(triage, email), "no area list, yet an unknown area");
    char *upper = strdup(email);
    FUZZ_ASSERT(upper, "out of memory");
    for (char *p = upper; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    FUZZ_ASSERT(!intake_triage_over_rate(triage, email, 1000), "over the limit at the first");
    FUZZ_ASSERT(intake_triage_over_rate(triage, upper, 2000), "'%s' is not '%s'", upper, email);
    intake_triage_uncount(triage, email);
    intake_triage_uncount(triage, email);
    FUZZ_ASSERT(!intake_triage_over_rate(triage, email, 3000), "retries still counted");
    free(upper);
    intake_triage_destroy(&triage);
    FUZZ_ASSERT(!triage, "destroy left the pointer");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FUZZ_ASSERT(text, "out of memory");
    memcpy(text, data, size);
    text[size] = 0;
    s_check_subject_key(text);
    s_check_content_hash(data, size);
    s_check_sender(text);
    free(text);
    return 0;
}
