#include "intake_triage.h"

#include <ctype.h>
#include <czmq.h>
#include <inttypes.h>
#include <string.h>

#include "dp_log.h"
#include "registry.pb-c.h"

/* One partner that owns a domain. */
typedef struct {
    int64_t id;     /* registry id */
    char slug[64];  /* registry slug */
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

struct _intake_triage_t {
    zhashx_t *domains;    /* domain -> owner_t */
    zhashx_t *areas;      /* area slug -> itself */
    zhashx_t *senders;    /* lower-case address -> rate_t */
    int limit_per_hour;   /* 0: no limit */
    zhashx_t *sources;    /* source -> bucket_t */
    int source_rate;      /* tokens a second per source; 0: no limit */
    bool loaded;          /* a refresh has succeeded */
};

enum { HOUR_MS = 3600 * 1000, MAX_TRACKED_SENDERS = 100000 };

intake_triage_t *intake_triage_new(int limit_per_hour)
{
    intake_triage_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->domains = zhashx_new();
    self->areas = zhashx_new();
    self->senders = zhashx_new();
    self->sources = zhashx_new();
    self->limit_per_hour = limit_per_hour;
    if (!self->domains || !self->areas || !self->senders || !self->sources) {
        intake_triage_destroy(&self);
        return NULL;
    }
    zhashx_set_destructor(self->domains, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_destructor(self->senders, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_destructor(self->areas, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_destructor(self->sources, (zhashx_destructor_fn *)zstr_free);
    return self;
}

void intake_triage_destroy(intake_triage_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_triage_t *self = *self_p;
    zhashx_destroy(&self->domains);
    zhashx_destroy(&self->areas);
    zhashx_destroy(&self->senders);
    zhashx_destroy(&self->sources);
    free(self);
    *self_p = NULL;
}

static zhashx_t *s_new_map(void)
{
    zhashx_t *map = zhashx_new();
    if (map)
        zhashx_set_destructor(map, (zhashx_destructor_fn *)zstr_free);
    return map;
}

int intake_triage_refresh(intake_triage_t *self, dp_client_t *registry)
{
    Dp__ListPartnerDomainsRequest domains_request = DP__LIST_PARTNER_DOMAINS_REQUEST__INIT;
    Dp__ListPartnerDomainsReply *domains_reply = NULL;
    dp_status_t status;
    if (dp_client_call(registry, &domains_request.base, &dp__list_partner_domains_reply__descriptor,
                       (ProtobufCMessage **)&domains_reply, &status) != 0 ||
        status.code != DP__CODE__CODE_OK) {
        dp_warning("partner domains not refreshed: %s", status.message);
        return -1;
    }
    Dp__ListAreasRequest areas_request = DP__LIST_AREAS_REQUEST__INIT;
    Dp__ListAreasReply *areas_reply = NULL;
    if (dp_client_call(registry, &areas_request.base, &dp__list_areas_reply__descriptor,
                       (ProtobufCMessage **)&areas_reply, &status) != 0 ||
        status.code != DP__CODE__CODE_OK) {
        dp_warning("areas not refreshed: %s", status.message);
        dp_message_free((ProtobufCMessage **)&domains_reply);
        return -1;
    }
    zhashx_t *domains = s_new_map(), *areas = s_new_map();
    for (size_t i = 0; domains && i < domains_reply->n_domains; i++) {
        owner_t *owner = calloc(1, sizeof *owner);
        if (!owner)
            break;
        owner->id = domains_reply->domains[i]->partner_id;
        snprintf(owner->slug, sizeof owner->slug, "%s", domains_reply->domains[i]->partner_slug);
        zhashx_update(domains, domains_reply->domains[i]->domain, owner);
    }
    for (size_t i = 0; areas && i < areas_reply->n_areas; i++)
        zhashx_update(areas, areas_reply->areas[i]->slug, strdup(areas_reply->areas[i]->slug));
    dp_message_free((ProtobufCMessage **)&domains_reply);
    dp_message_free((ProtobufCMessage **)&areas_reply);
    if (!domains || !areas) {
        zhashx_destroy(&domains);
        zhashx_destroy(&areas);
        return -1;
    }
    zhashx_destroy(&self->domains);
    zhashx_destroy(&self->areas);
    self->domains = domains;
    self->areas = areas;
    if (!self->loaded)
        dp_info("partner domains loaded: %zu domains, %zu areas", zhashx_size(domains),
                zhashx_size(areas));
    self->loaded = true;
    return 0;
}

bool intake_triage_has_partners(const intake_triage_t *self)
{
    return self->loaded;
}

size_t intake_triage_domain_count(const intake_triage_t *self)
{
    return zhashx_size(self->domains);
}

bool intake_triage_match_partner(const intake_triage_t *self, const char *email,
                                 int64_t *partner_id, const char **partner_slug)
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

bool intake_triage_area_known(const intake_triage_t *self, const char *area)
{
    return !self->loaded || zhashx_lookup(self->areas, area) != NULL;
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
    bucket->tokens = bucket->tokens + refill > self->source_rate ? self->source_rate
                                                                  : bucket->tokens + refill;
    bucket->refilled_at = now_ms;
    if (bucket->tokens < 1)
        return false;
    bucket->tokens -= 1;
    return true;
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
    const char *fields[] = {submission->source,      submission->idempotency_key,
                            submission->sender_name, submission->email,
                            submission->organisation, submission->country,
                            submission->kind,        submission->subject,
                            submission->body,        submission->language,
                            submission->received_at, submission->honeypot};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        s_digest_field(digest, fields[i]);
    for (size_t i = 0; i < submission->n_areas; i++)
        s_digest_field(digest, submission->areas[i]);
    char *hash = strdup(zdigest_string(digest));
    zdigest_destroy(&digest);
    return hash;
}
