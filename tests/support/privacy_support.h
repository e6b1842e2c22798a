/* Support for the data-protection tests: a registry and an intake in
   process sharing one privacy key, a person with enquiries (with history
   and notes) and contacts on two partners, typed privacy requests to
   either service, and the audit trails, tombstones and personal fields
   read back as the superuser.

   As in test_support.h, a helper that cannot do its job fails the current
   test, or exits 1 during setup. Names start with tp_ (test privacy). */
#ifndef PRIVACY_SUPPORT_H
#define PRIVACY_SUPPORT_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "dp_privacy.h"
#include "intake_support.h"
#include "privacy.pb-c.h"
#include "security_support.h"

/* The secret of the keyed hashes in every service a test starts. */
#define TP_PRIVACY_KEY "privacy-tests-secret-1f0e-5c3a9d7b42e8"

/* ---- The fixture: database, registry, intake --------------------------------- */

/* Creates and migrates the database and starts the registry (with
   TP_PRIVACY_KEY, metrics off) and its areas; the intake is not started,
   so that partners made now are known to it from its start. Exits 1 on
   failure. Destroy with ti_fixture_destroy. */
ti_fixture_t *tp_fixture_new(const char *label);
/* Starts the intake with TP_PRIVACY_KEY, retention of 24 months, metrics
   and the notify follower off, and these extra settings ("NAME", "value",
   ..., NULL). Exits 1 when it cannot. */
void tp_fixture_start_intake(ti_fixture_t *fixture, const char *const *settings);
/* Stops the registry and starts it again on the same database (with the
   same settings); the intake keeps the old endpoint, so use this only
   after the intake's last call to the registry. */
void tp_fixture_restart_registry(ti_fixture_t *fixture);

/* The keyed hash of an address under TP_PRIVACY_KEY. */
void tp_subject_key(const char *email, char key[DP_PRIVACY_KEY_HEX]);

/* ---- A person ----------------------------------------------------------------- */

enum { TP_ENQUIRIES = 3, TP_CONTACTS = 2 };

/* Everything a test knows about one person. It points into itself:
   initialise it where it lives, never copy it. */
typedef struct {
    const char *name;                  /* sender and contact name */
    const char *email;                 /* the address */
    const char *organisation;          /* given with each enquiry */
    const char *word;                  /* a word only this person's texts contain */
    const char *domain;                /* the address's domain: the first partner's */
    char key[DP_PRIVACY_KEY_HEX];      /* keyed hash of the address */
    char slugs[TP_CONTACTS][64];       /* the partners with a contact of this person */
    int64_t partner_ids[TP_CONTACTS];  /* their ids */
    int64_t contact_ids[TP_CONTACTS];  /* the contacts */
    int64_t enquiry_ids[TP_ENQUIRIES]; /* the enquiries */
    ti_form_t forms[TP_ENQUIRIES];     /* exactly what was submitted */
    char bodies[TP_ENQUIRIES][400];    /* their bodies */
} tp_person_t;

/* tag: lower-case letters and digits, unique in the test; the other texts
   are the person's own (the word: letters only, in no other text). */
void tp_person_init(tp_person_t *person, const char *tag, const char *name, const char *email,
                    const char *organisation, const char *word, const char *domain);
/* Before the intake starts: two partners (the first owns the person's
   domain, so that the enquiries are linked to it) and a contact of the
   person on each (role naming the word). */
void tp_person_add_partners(ti_fixture_t *fixture, tp_person_t *person);
/* The two people every privacy program works with: the subject, Zephyrine
   Quillfeather at TP_SUBJECT_EMAIL, and another, Bartholomew Inkwell;
   each initialised and given partners (before the intake starts). */
#define TP_SUBJECT_EMAIL "zephyrine.quillfeather@quillworks.example"
void tp_people_init(ti_fixture_t *fixture, tp_person_t *subject, tp_person_t *other);
/* Submits the three enquiries and moves them: the first assigned, answered
   and closed, the second rejected, the third left triaged; every move and
   one note per enquiry mention the person's name, address or word. */
void tp_person_add_enquiries(ti_fixture_t *fixture, tp_person_t *person);

/* ---- Privacy requests ------------------------------------------------------------ */

/* Each returns the reply when the status is OK, else NULL (*status holds
   the verdict). Free with ts_free. */
Dp__ErasePersonalDataReply *tp_erase_intake(ti_fixture_t *fixture, const char *email,
                                            const char *actor, const char *reason,
                                            dp_status_t *status);
Dp__ErasePersonalDataReply *tp_erase_registry(ti_fixture_t *fixture, const char *email,
                                              const char *actor, const char *reason,
                                              dp_status_t *status);
Dp__ExportPersonalDataReply *tp_export_intake(ti_fixture_t *fixture, const char *email,
                                              const char *actor, dp_status_t *status);
Dp__ExportPersonalDataReply *tp_export_registry(ti_fixture_t *fixture, const char *email,
                                                const char *actor, dp_status_t *status);
Dp__RunRetentionReply *tp_run_retention(ti_fixture_t *fixture, bool dry_run, const char *actor,
                                        dp_status_t *status);
Dp__ListAuditReply *tp_list_audit_intake(ti_fixture_t *fixture, const char *email,
                                         dp_status_t *status);
Dp__ListAuditReply *tp_list_audit_registry(ti_fixture_t *fixture, const char *email,
                                           dp_status_t *status);

/* ---- Reading back as the superuser --------------------------------------------- */

/* Rows of the audit trail of "intake" or "registry" with this action and,
   unless NULL, this actor and subject key. */
long long tp_audit_rows(PGconn *admin, const char *service, const char *action, const char *actor,
                        const char *subject_key);
/* Every tombstone key of "intake" or "registry", joined by ",". Free it. */
char *tp_tombstones(PGconn *admin, const char *service);

/* A digest of every row the data-protection requests can touch: the
   registry's and the intake's tables (outboxes included), both audit trails
   and both tombstone tables. Equal before and after exactly when nothing
   changed. Free it. */
char *tp_digest(PGconn *admin);

/* Rows (of the enquiries and their notes and history, of contacts) that
   still hold the needle in a personal field, case-insensitively. */
long long tp_enquiry_mentions(PGconn *admin, const char *needle);
long long tp_contact_mentions(PGconn *admin, const char *needle);

/* Polls (every 50 ms, at most timeout_ms) until constant `sql` with text
   parameters gives `expected` as its first value; true when it did. */
bool tp_wait_value(PGconn *conn, const char *sql, int param_count, const char *const *params,
                   long long expected, int timeout_ms);

#endif
