/* Any of the four services started inside the test process, with a client:
   the one fixture the per-service helpers (ts_registry_start,
   ti_intake_start, tn_notify_start, tr_report_start, tk_service_start)
   are thin wrappers of. Three lines start, call and stop a service:

       tf_service_t *registry = tf_service_start (TF_REGISTRY, url, NULL);
       reply = tf_call (registry, &request.base, &dp__x_reply__descriptor, &status);
       tf_service_stop (&registry);

   The service's actor is started with dp_server_start on
   tcp://127.0.0.1:*, against database_url (the URL of the service's own
   role, see ts_database_url), with what every service needs in a test (a
   PUB and a dashboard on free ports) and then the caller's settings. As in
   test_support.h, a helper that cannot do its job fails the current test;
   tf_service_start prints why and returns NULL. Names start with tf_
   (test fixture). */
#ifndef SERVICE_SUPPORT_H
#define SERVICE_SUPPORT_H

#include <czmq.h>
#include <protobuf-c/protobuf-c.h>

#include "dp_client.h"
#include "dp_codec.h"

typedef enum { TF_REGISTRY = 0, TF_INTAKE, TF_NOTIFY, TF_REPORT, TF_SERVICE_COUNT } tf_kind_t;

/* "registry", "intake", "notify", "report": the service's log name and the
   name of its certificate in a key folder. */
const char *tf_kind_name(tf_kind_t kind);

typedef struct _tf_service_t tf_service_t;

/* Starts the service (see above) with extra settings as "NAME", "value"
   pairs ending in NULL (NULL: none). Returns NULL after printing why when
   it cannot be configured or does not start. */
tf_service_t *tf_service_start(tf_kind_t kind, const char *database_url,
                               const char *const *settings);
/* The same with two lists of settings, `defaults` first (a wrapper's own,
   then its caller's). */
tf_service_t *tf_service_start_with(tf_kind_t kind, const char *database_url,
                                    const char *const *defaults, const char *const *settings);
/* Stops the actor ($TERM), closes the client and frees; safe to call twice. */
void tf_service_stop(tf_service_t **self_p);

/* The service's name, as tf_kind_name. */
const char *tf_service_name(const tf_service_t *self);
/* The bound ROUTER endpoint, e.g. "tcp://127.0.0.1:41234" (borrowed). */
const char *tf_service_endpoint(const tf_service_t *self);
/* notify's PUB endpoint as it answered at the start (borrowed; NULL for
   the other services), and report's dashboard port (0 for the others). */
const char *tf_service_pub_endpoint(const tf_service_t *self);
int tf_service_http_port(const tf_service_t *self);
/* Asks the actor's pipe (e.g. "PUB_ENDPOINT", "HTTP_PORT"); the caller
   frees. NULL when the actor gave no answer. */
char *tf_service_ask(tf_service_t *self, const char *command);
/* The tests' client (one attempt per call, 15 s unless set). */
dp_client_t *tf_service_client(tf_service_t *self);
/* Sets the client's wait per request. */
void tf_service_set_timeout(tf_service_t *self, int timeout_ms);

/* Sends any request and waits for the reply. Returns the decoded reply
   when the status is OK, else NULL; *status holds the verdict either way.
   Fails the test when no reply comes within the timeout: the services
   answer every request, refusals included. */
ProtobufCMessage *tf_call(tf_service_t *self, const ProtobufCMessage *request,
                          const ProtobufCMessageDescriptor *reply_type, dp_status_t *status);

/* A typed call, Dp__<Camel>Reply *<prefix><snake> (service, request,
   status), through tf_call: each service's support header lists its
   request types and declares (TF_DECLARE_CALL) and defines (TF_DEFINE_CALL)
   one per type with its own prefix. */
#define TF_DECLARE_CALL(prefix, Camel, snake)                                                      \
    Dp__##Camel##Reply *prefix##snake(tf_service_t *service, const Dp__##Camel##Request *request,  \
                                      dp_status_t *status);
#define TF_DEFINE_CALL(prefix, Camel, snake)                                                       \
    Dp__##Camel##Reply *prefix##snake(tf_service_t *service, const Dp__##Camel##Request *request,  \
                                      dp_status_t *status)                                         \
    {                                                                                              \
        return (Dp__##Camel##Reply *)tf_call(service, &request->base,                              \
                                             &dp__##snake##_reply__descriptor, status);            \
    }

#endif
