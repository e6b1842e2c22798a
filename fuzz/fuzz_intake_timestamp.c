/* The intake's received_at check, reached the way a feeding system reaches
   it: a submission that is valid but for received_at (the input, up to a
   NUL) goes through the intake's routes. Refused on received_at or
   accepted (then the unreachable database answers UNAVAILABLE), the
   outcome must be what an RFC 3339 reference says, with the bounds the
   intake adds for PostgreSQL (offsets below 16 hours, 20 to 35 bytes) and
   for sense (an instant from 2017-01-01T00:00:00Z to 5 minutes from now;
   the reference computes it with timegm, apart from the intake's code). A timestamp the check lets
   through but PostgreSQL refuses fails the whole batch with INTERNAL instead of refusing one
   submission with INVALID_ARGUMENT. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dp_log.h"
#include "dp_validate.h"
#include "fuzz_support.h"
#include "intake.pb-c.h"

static fuzz_service_t *s_intake;
static Dp__SubmitEnquiryRequest *s_request;

static bool s_digits(const char *text, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!isdigit((unsigned char)text[i]))
            return false;
    return true;
}

static int s_two(const char *text)
{
    return (text[0] - '0') * 10 + text[1] - '0';
}

enum { EARLIEST = 1483228800, /* 2017-01-01T00:00:00Z */ FUTURE_SKEW_S = 300 };

/* Seconds since 1970 of a text s_rfc3339 accepted (the fraction dropped). */
static long long s_instant(const char *text)
{
    struct tm fields = {.tm_year = atoi(text) - 1900,
                        .tm_mon = s_two(text + 5) - 1,
                        .tm_mday = s_two(text + 8),
                        .tm_hour = s_two(text + 11),
                        .tm_min = s_two(text + 14),
                        .tm_sec = s_two(text + 17)};
    long long seconds = (long long)timegm(&fields);
    const char *zone = text + 19;
    while (*zone && strchr("Zz+-", *zone) == NULL)
        zone++;
    if (*zone == '+' || *zone == '-') {
        long long offset = s_two(zone + 1) * 3600 + s_two(zone + 4) * 60;
        seconds += *zone == '+' ? -offset : offset;
    }
    return seconds;
}

/* date "T" hh:mm:ss [.fraction] ("Z" | +hh:mm | -hh:mm); RFC 3339 also
   allows "t", "z" and a space for the "T". */
static bool s_rfc3339(const char *text)
{
    size_t length = strlen(text);
    if (length < 20 || length > 35)
        return false;
    char date[11];
    memcpy(date, text, 10);
    date[10] = 0;
    const char *p = text + 11;
    if (!dp_valid_date(date) || !strchr("Tt ", text[10]) || !s_digits(p, 2) || p[2] != ':' ||
        !s_digits(p + 3, 2) || p[5] != ':' || !s_digits(p + 6, 2))
        return false;
    if (s_two(p) > 23 || s_two(p + 3) > 59 || s_two(p + 6) > 60)
        return false;
    p += 8;
    if (*p == '.') {
        if (!isdigit((unsigned char)p[1]))
            return false;
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    }
    if ((*p == 'Z' || *p == 'z') && !p[1])
        return true;
    return (*p == '+' || *p == '-') && s_digits(p + 1, 2) && p[3] == ':' && s_digits(p + 4, 2) &&
           !p[6] && s_two(p + 1) < 16 && s_two(p + 4) < 60;
}

static void s_stop(void)
{
    protobuf_c_message_free_unpacked(&s_request->base, NULL);
    fuzz_service_destroy(&s_intake);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    dp_log_init("fuzz-intake", "error");
    s_intake = fuzz_service_new("intake");
    s_request =
        (Dp__SubmitEnquiryRequest *)fuzz_message_fill(&dp__submit_enquiry_request__descriptor);
    FUZZ_ASSERT(s_intake && s_request && s_request->enquiry, "cannot set up the intake");
    atexit(s_stop);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    FUZZ_ASSERT(text, "out of memory");
    memcpy(text, data, size);
    text[size] = 0;
    Dp__EnquirySubmission *submission = s_request->enquiry;
    char *valid = submission->received_at;
    submission->received_at = text;
    size_t packed_size = 0;
    unsigned char *packed = fuzz_envelope_pack("timestamp", s_request->base.descriptor->name,
                                               &s_request->base, &packed_size);
    submission->received_at = valid;
    FUZZ_ASSERT(packed, "out of memory");
    zmsg_t *request = zmsg_new();
    zmsg_addmem(request, NULL, 0);
    zmsg_addmem(request, packed, packed_size);
    zmsg_t *reply = dp_server_handle_frames(fuzz_service_config(s_intake), request);
    Dp__Reply *answer = fuzz_check_reply(request, reply);
    Dp__Code code = answer->status->code;
    bool refused = code == DP__CODE__CODE_INVALID_ARGUMENT &&
                   strcmp(answer->status->field, "received_at") == 0;
    FUZZ_ASSERT(refused || code == DP__CODE__CODE_UNAVAILABLE, "%s on field '%s': %s",
                dp_code_name(code), answer->status->field, answer->status->message);
    /* A text within a second of the future bound may go either way. */
    long long now = (long long)time(NULL);
    bool well_formed = s_rfc3339(text);
    long long instant = well_formed ? s_instant(text) : 0;
    if (well_formed && instant >= now + FUTURE_SKEW_S - 1 && instant <= now + FUTURE_SKEW_S + 1)
        goto done;
    bool expected = well_formed && instant >= EARLIEST && instant <= now + FUTURE_SKEW_S;
    FUZZ_ASSERT(refused != expected, "received_at '%s' %s, yet RFC 3339 and the window say %s",
                text, refused ? "refused" : "accepted", expected ? "valid" : "invalid");
done:
    dp_message_free((ProtobufCMessage **)&answer);
    zmsg_destroy(&reply);
    zmsg_destroy(&request);
    free(packed);
    free(text);
    return 0;
}
