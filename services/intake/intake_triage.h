/* Triage at intake that needs no database: the partner-domain map (from
   the registry, loaded by the partner actor), the known areas, the sender rate limit, the
   normalised subject and the content hash of a submission. */
#ifndef INTAKE_TRIAGE_H
#define INTAKE_TRIAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "intake.pb-c.h"
#include "registry.pb-c.h"

typedef struct _intake_triage_t intake_triage_t;

/* limit_per_hour: submissions from one address in an hour before the rest
   are quarantined (0: no limit). */
intake_triage_t *intake_triage_new(int limit_per_hour);
/* A feeding system may submit `per_second` enquiries a second on average,
   in bursts of as many (0: no limit). Refused ones get RESOURCE_EXHAUSTED. */
void intake_triage_set_source_rate(intake_triage_t *self, int per_second);
/* Takes one token of the source's bucket; false when it is empty. */
bool intake_triage_source_allowed(intake_triage_t *self, const char *source, int64_t now_ms);
void intake_triage_destroy(intake_triage_t **self_p);

/* Per-key limit as well: the same token bucket, kept apart from the
   sources' (a key name is never a source slug). */
bool intake_triage_key_allowed(intake_triage_t *self, const char *key_name, int64_t now_ms);

/* A partner map: partner domains and areas as the registry gave them. It
   is built where the registry is asked (the partner actor) and handed to
   the server thread, which only reads it. */
typedef struct _intake_partners_t intake_partners_t;

/* Builds a map from the registry's replies; NULL when out of memory. */
intake_partners_t *intake_partners_new(const Dp__ListPartnerDomainsReply *domains,
                                       const Dp__ListAreasReply *areas);
void intake_partners_destroy(intake_partners_t **self_p);
size_t intake_partners_domain_count(const intake_partners_t *self);
size_t intake_partners_area_count(const intake_partners_t *self);
/* The partner whose domain (or a parent domain of it) the address uses.
   Returns true with id and slug (borrowed from the map) when there is one. */
bool intake_partners_match(const intake_partners_t *self, const char *email, int64_t *partner_id,
                           const char **partner_slug);

/* Installs a fresh map, taking it (*partners_p becomes NULL); the previous
   one is destroyed. */
void intake_triage_set_partners(intake_triage_t *self, intake_partners_t **partners_p);
/* True once a map has been installed. */
bool intake_triage_has_partners(const intake_triage_t *self);
size_t intake_triage_domain_count(const intake_triage_t *self);

/* intake_partners_match on the installed map; false without one. */
bool intake_triage_match_partner(const intake_triage_t *self, const char *email,
                                 int64_t *partner_id, const char **partner_slug);
/* True when the area is known, or when no area list has been loaded yet. */
bool intake_triage_area_known(const intake_triage_t *self, const char *area);

/* Counts a submission from the address; true when it is over the limit. */
bool intake_triage_over_rate(intake_triage_t *self, const char *email, int64_t now_ms);
/* Takes back one count (the submission turned out to be a retry). */
void intake_triage_uncount(intake_triage_t *self, const char *email);

/* The subject lower-cased, without leading "re:", "fw:", "fwd:", "aw:" and
   with runs of spaces made one. The caller frees it. */
char *intake_subject_key(const char *subject);
/* Hex SHA-1 over every field of the submission. The caller frees it. */
char *intake_content_hash(const Dp__EnquirySubmission *submission);

#endif
