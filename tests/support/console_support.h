/* Support for the staff console's tests: the console actor started inside
   the test process (its web pages on a free port, its ZeroMQ endpoint for
   staff accounts) next to the registry, the intake, notify and report, all
   on one test database; staff accounts made through the console's own
   requests (proto/console.proto); and a person's browser: libcurl with a
   cookie jar of its own, redirects never followed (a test reads the 303
   itself), a source address of its choosing on the loopback network (so
   that one person's failed logins are not another's), and every answer
   checked for the headers every page must carry (Content-Security-Policy
   without 'unsafe-inline', X-Content-Type-Options: nosniff).

   As in test_support.h, a helper that cannot do its job fails the current
   test, or exits 1 during setup. Names start with tc_ (test console). */
#ifndef CONSOLE_SUPPORT_H
#define CONSOLE_SUPPORT_H

#include <stdbool.h>

#include "console.pb-c.h"
#include "intake_support.h"

/* ---- The console in process ----------------------------------------------------- */

typedef struct _tc_console_t tc_console_t;

/* The four services the console talks to, in tf_kind_t's order; a NULL
   endpoint is a port where nothing listens. */
typedef struct {
    const char *endpoints[TF_SERVICE_COUNT];
} tc_peers_t;

/* Starts console_actor on tcp://127.0.0.1:* (ZeroMQ) and a free web port
   of 127.0.0.1, against the database as dp_console, metrics off, calling
   the peers, with extra settings as "NAME", "value" pairs ending in NULL.
   Returns NULL after printing why. */
tc_console_t *tc_console_start(const ts_database_t *database, const tc_peers_t *peers,
                               const char *const *settings);
/* Stops the actor ($TERM) and frees; safe to call twice. */
void tc_console_stop(tc_console_t **self_p);
/* The ZeroMQ endpoint (borrowed) and the web port. */
const char *tc_console_endpoint(const tc_console_t *self);
int tc_console_port(const tc_console_t *self);
/* With CURVE on: the staff client's secret certificate and the key folder,
   for the requests below (before the first of them). */
void tc_console_use_keys(tc_console_t *self, const char *curve_dir, const char *client_cert);

/* Sends any request to the console's ZeroMQ endpoint; as tf_call. */
ProtobufCMessage *tc_call(tc_console_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status);

/* Staff accounts through AddStaffRequest, DisableStaffRequest and
   ResetStaffPasswordRequest; each fails the test unless OK. */
void tc_add_staff_at(tc_console_t *self, const char *login, const char *name, Dp__StaffRole role,
                     const char *password, const char *file, int line);
#define tc_add_staff(console, login, name, role, password)                                         \
    tc_add_staff_at(console, login, name, DP__STAFF_ROLE__STAFF_ROLE_##role, password, __FILE__,   \
                    __LINE__)
void tc_disable_staff_at(tc_console_t *self, const char *login, bool enable, const char *file,
                         int line);
#define tc_disable_staff(console, login)                                                           \
    tc_disable_staff_at(console, login, false, __FILE__, __LINE__)
void tc_reset_password_at(tc_console_t *self, const char *login, const char *password,
                          const char *file, int line);
#define tc_reset_password(console, login, password)                                                \
    tc_reset_password_at(console, login, password, __FILE__, __LINE__)

/* ---- A fixture: database, the four services, the console ---------------------- */

typedef struct {
    ti_fixture_t *base;    /* database, registry, intake, admin connection */
    tf_service_t *notify;  /* notify, as dp_notify */
    tf_service_t *report;  /* report, as dp_report */
    tc_console_t *console; /* the console under test */
    zlist_t *people;       /* the browsers of tc_person, destroyed with it */
} tc_fixture_t;

/* Creates the database, starts the four services (no CURVE) and the
   console with these settings; exits 1 on failure. */
tc_fixture_t *tc_fixture_new(const char *label, const char *const *console_settings);
/* The endpoints of the fixture's services (for another console). */
tc_peers_t tc_fixture_peers(const tc_fixture_t *self);
/* Stops everything and destroys the people's browsers. */
void tc_fixture_destroy(tc_fixture_t **self_p);
/* Runs the tests as one cmocka group (with its setup, which may be NULL),
   then destroys the fixture; returns the number that failed. */
int tc_fixture_run(tc_fixture_t **self_p, const char *name, const struct CMUnitTest *tests,
                   size_t count, int (*setup)(void **state));

/* ---- A person's browser ---------------------------------------------------------- */

typedef struct _tc_browser_t tc_browser_t;

/* A browser with an empty cookie jar talking to the console's web port
   from source_address (any 127.x.y.z; NULL: 127.0.0.1). */
tc_browser_t *tc_browser_new(const tc_console_t *console, const char *source_address);
void tc_browser_destroy(tc_browser_t **self_p);

typedef struct {
    long status;   /* the HTTP status */
    char *headers; /* every header line as received */
    char *body;    /* NUL-terminated */
} tc_response_t;

/* "name", "value", ... pairs ending in NULL. */
#define TC_FIELDS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* GET, and POST of url-encoded fields (NULL: none); fails the test when no
   answer comes or the answer lacks the headers every answer carries. */
tc_response_t tc_get_at(tc_browser_t *self, const char *path, const char *file, int line);
#define tc_get(browser, path) tc_get_at(browser, path, __FILE__, __LINE__)
tc_response_t tc_post_at(tc_browser_t *self, const char *path, const char *const *fields,
                         const char *file, int line);
#define tc_post(browser, path, fields) tc_post_at(browser, path, fields, __FILE__, __LINE__)
void tc_response_free(tc_response_t *response);

/* A header's value (the first, name compared without case), or NULL; the
   caller frees. */
char *tc_header(const tc_response_t *response, const char *name);
/* Fails the test unless the answer has this status (and, for a redirect,
   a Location starting with location_prefix unless that is NULL). */
void tc_assert_status_at(const tc_response_t *response, long status, const char *location_prefix,
                         const char *file, int line);
#define tc_assert_status(response, status, location_prefix)                                        \
    tc_assert_status_at(response, status, location_prefix, __FILE__, __LINE__)
/* Fails the test unless the body contains (or does not contain) the text. */
void tc_assert_body_at(const tc_response_t *response, const char *text, bool present,
                       const char *file, int line);
#define tc_assert_has(response, text) tc_assert_body_at(response, text, true, __FILE__, __LINE__)
#define tc_assert_lacks(response, text) tc_assert_body_at(response, text, false, __FILE__, __LINE__)
/* The text inside the element with this id (up to its first '<'), or NULL
   when the page has no such element; the caller frees. */
char *tc_element_text(const tc_response_t *response, const char *id);
/* The value of the first hidden csrf field; fails the test when there is
   none. The caller frees. */
char *tc_csrf_at(const tc_response_t *response, const char *file, int line);
#define tc_csrf(response) tc_csrf_at(response, __FILE__, __LINE__)

/* The browser's cookie of that name (the caller frees), or NULL; and a
   cookie put in its jar by hand (sent to any host, path /). */
char *tc_cookie(tc_browser_t *self, const char *name);
void tc_set_cookie(tc_browser_t *self, const char *name, const char *value);

/* A login as the form sends it (GET /login for its token, POST /login);
   returns the answer to the POST. */
tc_response_t tc_try_login_at(tc_browser_t *self, const char *login, const char *password,
                              const char *file, int line);
#define tc_try_login(browser, login, password)                                                     \
    tc_try_login_at(browser, login, password, __FILE__, __LINE__)
/* The same, failing the test unless it is a 303 to the queue. */
void tc_login_at(tc_browser_t *self, const char *login, const char *password, const char *file,
                 int line);
#define tc_login(browser, login, password) tc_login_at(browser, login, password, __FILE__, __LINE__)
/* A form sent as a person sends it: GET page (for its csrf token), then
   POST the fields and that token to action. Returns the POST's answer. */
tc_response_t tc_submit_at(tc_browser_t *self, const char *page, const char *action,
                           const char *const *fields, const char *file, int line);
#define tc_submit(browser, page, action, fields)                                                   \
    tc_submit_at(browser, page, action, fields, __FILE__, __LINE__)
/* tc_submit that must be answered 303 to the page it came from. */
void tc_submit_ok_at(tc_browser_t *self, const char *page, const char *action,
                     const char *const *fields, const char *file, int line);
#define tc_submit_ok(browser, page, action, fields)                                                \
    tc_submit_ok_at(browser, page, action, fields, __FILE__, __LINE__)

/* count logins sent at once (curl's multi interface), each from a browser
   of its own at source_address whose login form was fetched first; fills
   statuses[i] with each answer's HTTP status. */
void tc_logins_at_once_at(const tc_console_t *console, const char *source_address,
                          const char *login, const char *password, size_t count, long *statuses,
                          const char *file, int line);
#define tc_logins_at_once(console, source_address, login, password, count, statuses)               \
    tc_logins_at_once_at(console, source_address, login, password, count, statuses, __FILE__,      \
                         __LINE__)

/* A person at work: the staff account made through the fixture console's
   requests, and a browser signed into it from source_address (borrowed:
   the fixture destroys it). */
tc_browser_t *tc_person_at(tc_fixture_t *fixture, const char *login, const char *name,
                           Dp__StaffRole role, const char *password, const char *source_address,
                           const char *file, int line);
#define tc_person(fixture, login, name, role, password, source_address)                            \
    tc_person_at(fixture, login, name, DP__STAFF_ROLE__STAFF_ROLE_##role, password,                \
                 source_address, __FILE__, __LINE__)

/* A received_at of a minute ago ("YYYY-MM-DDTHH:MM:SSZ", static buffer):
   inside the intake's window, and its first-response target still ahead. */
const char *tc_minute_ago(void);

/* "/enquiries/<id>" and "/enquiries/<id>/<action>" (static buffer ring). */
const char *tc_enquiry_path(int64_t id, const char *action);

#endif
