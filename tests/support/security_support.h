/* Support for the security and data-protection tests: any of the four
   services started inside the test process with settings of the test's
   choosing (a CurveZMQ key folder among them), a key folder made with
   czmq in a temporary directory, raw clients that talk CURVE (or not) and
   report silence instead of failing, and the process's standard error
   captured in a file so that a test can read what the services logged.

   As in test_support.h, a helper that cannot do its job fails the current
   test, or exits 1 during setup. Names start with tk_ (test keys: CURVE). */
#ifndef SECURITY_SUPPORT_H
#define SECURITY_SUPPORT_H

#include <czmq.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "envelope.pb-c.h"
#include "test_support.h"

/* ---- The services in process ------------------------------------------------ */

/* In the order of service_support.h's tf_kind_t. */
typedef enum { TK_REGISTRY = 0, TK_INTAKE, TK_NOTIFY, TK_REPORT, TK_SERVICE_COUNT } tk_kind_t;

/* "registry", "intake", "notify", "report": the name of the service's
   certificate in the key folder. */
const char *tk_kind_name(tk_kind_t kind);

/* A service as the generic fixture starts it (service_support.h), with
   metrics off and a privacy key CURVE accepts. */
typedef tf_service_t tk_service_t;

/* Starts the service's actor on tcp://127.0.0.1:* against database_url (the
   URL of the service's own role), metrics off, notify's PUB on a free port,
   report's dashboard on a free port, with extra settings as "NAME",
   "value" pairs ending in NULL. Returns NULL after printing why. */
tk_service_t *tk_service_start(tk_kind_t kind, const char *database_url,
                               const char *const *settings);
/* Stops the actor ($TERM) and frees; safe to call twice. */
void tk_service_stop(tk_service_t **self_p);
/* The bound ROUTER endpoint (borrowed). */
const char *tk_service_endpoint(const tk_service_t *self);
/* Asks the actor's pipe (e.g. "PUB_ENDPOINT"); the caller frees. */
char *tk_service_ask(tk_service_t *self, const char *command);

/* ---- A CurveZMQ key folder --------------------------------------------------- */

typedef struct _ss_keys_t tk_keys_t;

/* Makes a key folder in a new temporary directory, laid out as
   dp_security.h describes: services/<name>.key(_secret) for the four
   services, and for each role (feeder, consumer, staff, service) a client
   "<role>-client" with metadata name and role, its public certificate in
   clients/ and its secret one in private/. */
tk_keys_t *tk_keys_new(void);
/* Deletes the folder and frees; safe to call twice. */
void tk_keys_destroy(tk_keys_t **self_p);
/* The folder, for DP_CURVE_DIR (borrowed). */
const char *tk_keys_dir(const tk_keys_t *self);
/* Makes one more client certificate: its secret half in private/, and its
   public half in clients/ only when allowed. */
void tk_keys_add_client(tk_keys_t *self, const char *name, const char *role, bool allowed);
/* private/<name>.key_secret, for DP_CURVE_CLIENT_CERT or tk_client_new
   (static buffer ring). */
const char *tk_keys_secret_path(const tk_keys_t *self, const char *name);
/* Removes clients/<name>.key: the client is no longer allowed. */
void tk_keys_revoke(tk_keys_t *self, const char *name);

/* ---- Raw clients ------------------------------------------------------------- */

typedef struct _ss_client_t tk_client_t;

/* A DEALER connected to the service at endpoint. With client_secret (a
   path), it talks CURVE with that certificate and the service's public key
   from the folder; with NULL it uses no security mechanism at all. */
tk_client_t *tk_client_new(const char *endpoint, const tk_keys_t *keys, tk_kind_t service,
                           const char *client_secret);
void tk_client_destroy(tk_client_t **self_p);

/* Sends the request and waits up to timeout_ms for its answer. Returns the
   decoded dp.Reply (free with ts_free), or NULL when nothing came. Fails
   the test when something came that is not a well-formed reply to it. */
Dp__Reply *tk_exchange(tk_client_t *self, const ProtobufCMessage *request, int timeout_ms);

/* ---- Standard error captured ------------------------------------------------- */

typedef struct _ss_capture_t tk_capture_t;

/* From now on, everything written to file descriptor 2 (the services'
   log lines, cmocka's messages) goes to a temporary file. */
tk_capture_t *tk_capture_start(void);
/* Everything captured so far (the caller frees). */
char *tk_capture_text(tk_capture_t *self);
/* Restores standard error, copies what was captured onto it (so that the
   log still shows in ctest's output) and deletes the file; safe twice. */
void tk_capture_end(tk_capture_t **self_p);

#endif
