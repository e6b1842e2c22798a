/* The staff console's own parts: the service object, the worker contexts
   the web threads borrow, a request as the pages see it, and the functions
   of each file. */
#ifndef CONSOLE_SERVICE_H
#define CONSOLE_SERVICE_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "console.pb-c.h"
#include "console_server.h"
#include "dp_client.h"
#include "dp_db.h"
#include "dp_metrics.h"
#include "dp_security.h"

typedef struct console_request console_request_t;

/* ---- the service ------------------------------------------------------------------- */

/* Everything one web thread needs for one request: a connection to the
   console's schema and a client of each service. A request takes a worker
   from the pool and gives it back, so no two threads share a socket or a
   connection. */
typedef struct {
    dp_db_t *db;           /* console schema, as dp_console */
    dp_client_t *registry; /* each client is a frontend naming the person */
    dp_client_t *intake;
    dp_client_t *notify;
    dp_client_t *report;
} console_worker_t;

typedef struct {
    unsigned idle_timeout_s;     /* a session unused this long ends */
    unsigned absolute_timeout_s; /* a session this old ends, used or not */
    unsigned account_failures;   /* failed logins of one account before a lockout */
    unsigned address_failures;   /* failed logins from one address before it is refused */
    unsigned lockout_s;          /* how long a lockout lasts; also the counting window */
    bool secure_cookies;         /* cookies marked Secure (behind an HTTPS proxy) */
    int call_timeout_ms;         /* wait for another service's reply */
} console_policy_t;

struct _console_t {
    const dp_config_t *config; /* borrowed settings */
    dp_db_t *db;               /* the ZeroMQ side's connection (staff accounts) */
    dp_metrics_t *metrics;     /* requests and latencies, on DP_METRICS_PORT */
    dp_server_config_t server; /* what dp_server_run takes; its state is this */
    console_policy_t policy;
    dp_client_keys_t keys[4];   /* CURVE keys for registry, intake, notify, report */
    struct MHD_Daemon *http;    /* the web server */
    char port[8];               /* its port, as text */
    pthread_mutex_t lock;       /* guards the worker pool */
    pthread_cond_t returned;    /* a worker came back */
    console_worker_t **workers; /* all workers made */
    size_t worker_count;
    console_worker_t **idle; /* workers free to take */
    size_t idle_count;
    size_t max_workers;
};

/* ---- console_calls.c: the other services, as a front end ----------------------------- */

typedef enum { CONSOLE_REGISTRY, CONSOLE_INTAKE, CONSOLE_NOTIFY, CONSOLE_REPORT } console_peer_t;

console_worker_t *console_worker_take(console_t *console);
void console_worker_give(console_t *console, console_worker_t *worker);
void console_workers_destroy(console_t *console);
/* Loads the keys of the four services (dp_client_keys_load); -1 on an error. */
int console_keys_load(console_t *console);
/* One request to a service on behalf of the request's person, with its
   worker's client. Returns 0 with *reply_out set (free with
   dp_message_free) when the answer is OK; otherwise -1 with status filled
   (the service's refusal, or UNAVAILABLE). */
int console_call(console_request_t *request, console_peer_t peer, const ProtobufCMessage *message,
                 const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply_out,
                 dp_status_t *status);

/* One change a page's form asks of a service: the request message is made
   from the form by field names (text fields copied, numbers parsed,
   workflow statuses by their slug), with "id" the page's id, "partner"
   the page's partner and "actor" the person (read by the services only
   without CURVE); "assignee" = "me" names the person. */
typedef struct {
    const char *action;                        /* the path's last part, e.g. "note" */
    console_peer_t peer;                       /* which service */
    const ProtobufCMessageDescriptor *request; /* the request message */
    const ProtobufCMessageDescriptor *reply;   /* its OK reply */
    const char *const fields[6][2];            /* {form field, message field}, ends with {NULL} */
} console_change_t;

/* The change named `action` in a table of count rows, or NULL. */
const console_change_t *console_change_find(const console_change_t *table, size_t count,
                                            const char *action);
/* Makes the request from the form and sends it; 0, or -1 with status. */
int console_change_send(console_request_t *request, const console_change_t *change, int64_t id,
                        const ProtobufCMessage *partner, dp_status_t *status);

/* ---- console_auth.c: passwords, session ids, CSRF tokens ------------------------------- */

enum {
    CONSOLE_TOKEN_BYTES = 32,       /* session ids: 256 random bits */
    CONSOLE_TOKEN_TEXT = 44,        /* base64url of 32 bytes, no padding, + NUL */
    CONSOLE_HASH_HEX = 2 * 32 + 3,  /* "\x" + 64 hex digits + NUL */
    CONSOLE_MIN_PASSWORD = 12,      /* bytes */
    CONSOLE_MAX_PASSWORD = 256,     /* bytes */
    CONSOLE_PASSWORD_HASH_MAX = 128 /* crypto_pwhash_STRBYTES */
};

int console_auth_init(void);
/* Argon2id (libsodium's crypto_pwhash_str, interactive limits). 0 or -1. */
int console_password_hash(const char *password, char hash[CONSOLE_PASSWORD_HASH_MAX]);
bool console_password_verify(const char *hash, const char *password);
/* Spends the time of a verification, for logins naming no account. */
void console_password_dummy_verify(const char *password);
/* A new random token as base64url text. */
void console_token_new(char text[CONSOLE_TOKEN_TEXT]);
/* SHA-256 of a token's text, as PostgreSQL bytea hex input ("\x..."). */
void console_token_hash(const char *token, char hex[CONSOLE_HASH_HEX]);
/* The CSRF token of a session: HMAC-SHA-256 of a constant under the
   session id, base64url; known to whoever holds the cookie, and to no one
   else. */
void console_csrf_of(const char *session_token, char text[CONSOLE_TOKEN_TEXT]);
/* Constant-time comparison of two texts. */
bool console_same_text(const char *a, const char *b);
/* A password acceptable for an account (length only; reason set when not). */
bool console_password_acceptable(const char *password, const char **reason);

/* ---- console_db.c: the console schema ---------------------------------------------------- */

typedef struct {
    int64_t id;
    char login[65];
    char name[101];
    char role[8]; /* "agent" or "admin" */
    bool disabled;
    char password_hash[CONSOLE_PASSWORD_HASH_MAX];
    bool locked; /* locked_until is in the future */
} console_account_t;

extern const dp_statement_t console_statements[];
extern const size_t console_statement_count;

/* 1 found, 0 not, -1 database failure. */
int console_db_account(dp_db_t *db, const char *login, console_account_t *account);
/* Failed logins within the window for this login and for this address. */
int console_db_failures(dp_db_t *db, const char *login, const char *address, unsigned window_s,
                        long *for_login, long *for_address);
int console_db_record_failure(dp_db_t *db, const char *login, const char *address);
int console_db_lock(dp_db_t *db, const char *login, unsigned lockout_s);
/* Clears the account's failures, stamps its last login and stores the session. */
/* Sessions past their time-outs are deleted on the way. */
int console_db_login(dp_db_t *db, int64_t staff_id, const char *login, const char *session_hash,
                     const char *address, const console_policy_t *policy);
/* The session's account when the session is alive (touching it); 1, 0, -1. */
int console_db_session(dp_db_t *db, const char *session_hash, const console_policy_t *policy,
                       console_account_t *account);
int console_db_logout(dp_db_t *db, const char *session_hash);
int console_db_logout_everywhere(dp_db_t *db, int64_t staff_id);
int console_db_audit(dp_db_t *db, const char *actor, const char *action, const char *target,
                     const char *address, const char *detail);
/* Staff accounts (console_staff.c and the admin page). */
int console_db_add_staff(dp_db_t *db, const char *login, const char *name, const char *role,
                         const char *password_hash, int64_t *id_out);
/* Accounts as messages in the arena; one when login is given. */
int console_db_list_staff(dp_db_t *db, dp_arena_t *arena, const char *login,
                          const console_policy_t *policy, Dp__StaffAccount ***accounts,
                          size_t *count);
int console_db_set_disabled(dp_db_t *db, const char *login, bool disabled);
int console_db_set_password(dp_db_t *db, const char *login, const char *password_hash);
/* Names of enabled accounts, for "assign to a colleague"; malloc'd list. */
int console_db_staff_names(dp_db_t *db, dp_arena_t *arena, char ***names, size_t *count);

/* ---- console_staff.c: AddStaff, ListStaff, DisableStaff, ResetStaffPassword ----------- */

/* Shared by the ZeroMQ handlers and the admin page: makes an account;
   returns 0, or -1 with the refusal in status. */
int console_staff_add(dp_db_t *db, const char *actor, const char *login, const char *name,
                      Dp__StaffRole role, const char *password, dp_status_t *status);
int console_staff_disable(dp_db_t *db, const char *actor, const char *login, bool enable,
                          dp_status_t *status);
int console_staff_reset(dp_db_t *db, const char *actor, const char *login, const char *password,
                        dp_status_t *status);
const char *console_role_text(Dp__StaffRole role);

/* ---- console_http.c: the web server --------------------------------------------------- */

/* What a page sees of its request. */
struct console_request {
    console_t *console;
    console_worker_t *worker;
    struct MHD_Connection *connection;
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* decoded path, e.g. "/enquiries/12" */
    char address[64];   /* the client's address */
    zhash_t *form;      /* POST fields (application/x-www-form-urlencoded) */
    bool signed_in;
    console_account_t account;              /* who is signed in */
    char session_token[CONSOLE_TOKEN_TEXT]; /* from the cookie */
    char csrf[CONSOLE_TOKEN_TEXT];          /* this session's form token */
    char person[160];                       /* the name services record */
    char set_cookie[256];                   /* a Set-Cookie header for the answer, or "" */
};

/* A page answers by queueing a response through one of these. */
typedef enum MHD_Result console_result_t;
console_result_t console_send_html(console_request_t *request, unsigned status, char *html,
                                   size_t size);
console_result_t console_redirect(console_request_t *request, const char *location);
/* Sets a cookie on the answer: HttpOnly, SameSite=Strict, Path=/, Secure
   when configured; max_age_s 0 deletes it. */
void console_set_cookie(console_request_t *request, const char *name, const char *value,
                        long max_age_s);
console_result_t console_send_text(console_request_t *request, unsigned status,
                                   const char *content_type, const char *text);
/* A GET argument ("" when absent) or a POST field ("" when absent). */
const char *console_arg(const console_request_t *request, const char *name);
const char *console_field(const console_request_t *request, const char *name);
/* Whether the signed-in person is an admin. */
bool console_is_admin(const console_request_t *request);

int console_http_start(console_t *console, const char *address, int port,
                       const dp_http_limits_t *limits);
void console_http_stop(console_t *console);

/* ---- pages (console_page_*.c) -------------------------------------------------------- */

console_result_t console_page_login(console_request_t *request, const char *error, unsigned status);
console_result_t console_post_login(console_request_t *request);
console_result_t console_post_logout(console_request_t *request, bool everywhere);
console_result_t console_page_queue(console_request_t *request);
console_result_t console_page_enquiry(console_request_t *request, int64_t id);
console_result_t console_post_enquiry(console_request_t *request, int64_t id, const char *action);
console_result_t console_page_partners(console_request_t *request);
console_result_t console_page_partner(console_request_t *request, const char *slug);
console_result_t console_post_partner(console_request_t *request, const char *slug,
                                      const char *action);
console_result_t console_page_admin_staff(console_request_t *request);
console_result_t console_post_admin_staff(console_request_t *request);
console_result_t console_page_admin_events(console_request_t *request);
console_result_t console_post_admin_events(console_request_t *request);
/* A page saying a service could not answer (503) or refused (4xx). */
console_result_t console_page_failure(console_request_t *request, const dp_status_t *status);
console_result_t console_page_not_found(console_request_t *request);
/* The HTTP status that says what a service's refusal says. */
unsigned console_http_status(const dp_status_t *status);

#endif
