#include "intake_triage.h"

#include <ctype.h>
#include <czmq.h>
#include <inttypes.h>
#include <string.h>

/* One partner that owns a domain. */
typedef struct {
    int64_t id;    /* registry id */
    char slug[64]; /* registry slug */
} owner_t;

/* Submissions from one address in the current window. */
typedef struct {
    int64_t window_start; /* zclock_mono ms when the window opened */
    int count;            /* submissions counted in the window */
} rate_t;

/* A feeding system's token bucket. */
typedef struct {
    double tokens;       /* submissions it may still make now */
    int64_t refilled_at; /* zclock_mono ms of the last refill */
} bucket_t;

/* Partner domains and areas, as one registry answer gave them. */
struct _intake_partners_t {
    zhashx_t *domains; /* domain -> owner_t */
    zhashx_t *areas;   /* area slug -> itself */
};

struct _intake_triage_t {
    intake_partners_t *partners; /* the installed map, or NULL before the first */
    zhashx_t *senders;           /* lower-case address -> rate_t */
    int limit_per_hour;          /* 0: no limit */
    zhashx_t *sources;           /* source (or "key <name>") -> bucket_t */
    int source_rate;             /* tokens a second per source and per key; 0: no limit */
};

enum { HOUR_MS = 3600 * 1000, MAX_TRACKED_SENDERS = 100000 };

static zhashx_t *s_new_map(void)
{
    zhashx_t *map = zhashx_new();
    if (map)
        zhashx_set_destructor(map, (zhashx_destructor_fn *)zstr_free);
    return map;
}

intake_triage_t *intake_triage_new(int limit_per_hour)
{
    intake_triage_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->senders = s_new_map();
    self->sources = s_new_map();
    self->limit_per_hour = limit_per_hour;
    if (!self->senders || !self->sources) {
        intake_triage_destroy(&self);
        return NULL;
    }
    return self;
}

void intake_triage_destroy(intake_triage_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_triage_t *self = *self_p;
    intake_partners_destroy(&self->partners);
    zhashx_destroy(&self->senders);
    zhashx_destroy(&self->sources);
    free(self);
    *self_p = NULL;
}

intake_partners_t *intake_partners_new(const Dp__ListPartnerDomainsReply *domains,
                                       const Dp__ListAreasReply *areas)
{
    intake_partners_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->domains = s_new_map();
    self->areas = s_new_map();
    if (!self->domains || !self->areas) {
        intake_partners_destroy(&self);
        return NULL;
    }
    for (size_t i = 0; i < domains->n_domains; i++) {
        owner_t *owner = calloc(1, sizeof *owner);
        if (!owner) {
            intake_partners_destroy(&self);
            return NULL;
        }
        owner->id = domains->domains[i]->partner_id;
        snprintf(owner->slug, sizeof owner->slug, "%s", domains->domains[i]->partner_slug);
        zhashx_update(self->domains, domains->domains[i]->domain, owner);
    }
    for (size_t i = 0; i < areas->n_areas; i++) {
        char *slug = strdup(areas->areas[i]->slug);
        if (!slug) {
            intake_partners_destroy(&self);
            return NULL;
        }
        zhashx_update(self->areas, slug, slug);
    }
    return self;
}

void intake_partners_destroy(intake_partners_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_partners_t *self = *self_p;
    zhashx_destroy(&self->domains);
    zhashx_destroy(&self->areas);
    free(self);
    *self_p = NULL;
}

size_t intake_partners_domain_count(const intake_partners_t *self)
{
    return zhashx_size(self->domains);
}

size_t intake_partners_area_count(const intake_partners_t *self)
{
    return zhashx_size(self->areas);
}

bool intake_partners_match(const intake_partners_t *self, const char *email, int64_t *partner_id,
                           const char **partner_slug)
{
    const char *at = strrchr(email, '@');
    if (!at)
        return false;
    char domain[256];
    size_t length = 0;
    for (const char *p = at + 1; *p && length < sizeof domain - 1; p++)
        domain[length++] = (char)tolower((unsigned char)*p);
    domain[length] = 0;
    /* mail.google.com matches google.com: try the domain, then each parent. */
    for (const char *candidate = domain; candidate && strchr(candidate, '.');) {
        const owner_t *owner = zhashx_lookup(self->domains, candidate);
        if (owner) {
            *partner_id = owner->id;
            *partner_slug = owner->slug;
            return true;
        }
        candidate = strchr(candidate, '.');
        if (candidate)
            candidate++;
    }
    return false;
}

void intake_triage_set_partners(intake_triage_t *self, intake_partners_t **partners_p)
{
    if (!partners_p || !*partners_p)
        return;
    intake_partners_destroy(&self->partners);
    self->partners = *partners_p;
    *partners_p = NULL;
}

bool intake_triage_has_partners(const intake_triage_t *self)
{
    return self->partners != NULL;
}

size_t intake_triage_domain_count(const intake_triage_t *self)
{
    return self->partners ? intake_partners_domain_count(self->partners) : 0;
}

bool intake_triage_match_partner(const intake_triage_t *self, const char *email,
                                 int64_t *partner_id, const char **partner_slug)
{
    return self->partners && intake_partners_match(self->partners, email, partner_id, partner_slug);
}

bool intake_triage_area_known(const intake_triage_t *self, const char *area)
{
    return !self->partners || zhashx_lookup(self->partners->areas, area) != NULL;
}

static void s_sender_key(const char *email, char key[256])
{
    size_t length = 0;
    for (const char *p = email; *p && length < 255; p++)
        key[length++] = (char)tolower((unsigned char)*p);
    key[length] = 0;
}

void intake_triage_set_source_rate(intake_triage_t *self, int per_second)
{
    self->source_rate = per_second;
}

bool intake_triage_source_allowed(intake_triage_t *self, const char *source, int64_t now_ms)
{
    if (self->source_rate <= 0)
        return true;
    bucket_t *bucket = zhashx_lookup(self->sources, source);
    if (!bucket) {
        /* Sources are few (feeding systems); bound them anyway. */
        if (zhashx_size(self->sources) >= 10000)
            zhashx_purge(self->sources);
        bucket = calloc(1, sizeof *bucket);
        if (!bucket)
            return true;
        bucket->tokens = self->source_rate;
        bucket->refilled_at = now_ms;
        zhashx_insert(self->sources, source, bucket);
    }
    double refill = (double)(now_ms - bucket->refilled_at) * self->source_rate / 1000.0;
    bucket->tokens =
        bucket->tokens + refill > self->source_rate ? self->source_rate : bucket->tokens + refill;
    bucket->refilled_at = now_ms;
    if (bucket->tokens < 1)
        return false;
    bucket->tokens -= 1;
    return true;
}

bool intake_triage_key_allowed(intake_triage_t *self, const char *key_name, int64_t now_ms)
{
    /* A space never occurs in a source slug: the key's bucket cannot be a source's. */
    char bucket[160];
    snprintf(bucket, sizeof bucket, "key %s", key_name);
    return intake_triage_source_allowed(self, bucket, now_ms);
}

void intake_triage_uncount(intake_triage_t *self, const char *email)
{
    char key[256];
    s_sender_key(email, key);
    rate_t *rate = zhashx_lookup(self->senders, key);
    if (rate && rate->count > 0)
        rate->count--;
}

bool intake_triage_over_rate(intake_triage_t *self, const char *email, int64_t now_ms)
{
    if (self->limit_per_hour <= 0)
        return false;
    char key[256];
    s_sender_key(email, key);
    rate_t *rate = zhashx_lookup(self->senders, key);
    if (!rate) {
        /* Bound the memory: forget every sender when too many are tracked. */
        if (zhashx_size(self->senders) >= MAX_TRACKED_SENDERS)
            zhashx_purge(self->senders);
        rate = calloc(1, sizeof *rate);
        if (!rate)
            return false;
        rate->window_start = now_ms;
        zhashx_insert(self->senders, key, rate);
    }
    if (now_ms - rate->window_start >= HOUR_MS) {
        rate->window_start = now_ms;
        rate->count = 0;
    }
    return ++rate->count > self->limit_per_hour;
}

char *intake_subject_key(const char *subject)
{
    size_t length = strlen(subject);
    char *key = malloc(length + 1);
    if (!key)
        return NULL;
    const char *p = subject;
    /* Strip reply and forward prefixes, however many. */
    static const char *prefixes[] = {"re:", "fw:", "fwd:", "aw:", "tr:", "wg:"};
    bool stripped = true;
    while (stripped) {
        stripped = false;
        /* Every kind of space, as below: a folded "Re:\n Fw:" is two prefixes. */
        while (isspace((unsigned char)*p))
            p++;
        for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
            if (strncasecmp(p, prefixes[i], strlen(prefixes[i])) == 0) {
                p += strlen(prefixes[i]);
                stripped = true;
            }
    }
    size_t out = 0;
    bool space = false;
    for (; *p; p++) {
        if (isspace((unsigned char)*p)) {
            space = out > 0;
            continue;
        }
        if (space)
            key[out++] = ' ';
        space = false;
        key[out++] = (char)tolower((unsigned char)*p);
    }
    key[out] = 0;
    return key;
}

/* Each field goes in with its length, so that no two submissions hash the same text. */
static void s_digest_field(zdigest_t *digest, const char *value)
{
    char length[24];
    snprintf(length, sizeof length, "%zu:", strlen(value));
    zdigest_update(digest, (const byte *)length, strlen(length));
    zdigest_update(digest, (const byte *)value, strlen(value));
}

char *intake_content_hash(const Dp__EnquirySubmission *submission)
{
    zdigest_t *digest = zdigest_new();
    if (!digest)
        return NULL;
    const char *fields[] = {
        submission->source,   submission->idempotency_key, submission->sender_name,
        submission->email,    submission->organisation,    submission->country,
        submission->kind,     submission->subject,         submission->body,
        submission->language, submission->received_at,     submission->honeypot};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        s_digest_field(digest, fields[i]);
    for (size_t i = 0; i < submission->n_areas; i++)
        s_digest_field(digest, submission->areas[i]);
    char *hash = strdup(zdigest_string(digest));
    zdigest_destroy(&digest);
    return hash;
}
