/* CurveZMQ on every endpoint, and roles from client certificates.

   A key folder (DP_CURVE_DIR) holds:
     services/<service>.key_secret   each service's own certificate (secret)
     services/<service>.key          its public part, given to clients
     clients/<name>.key              the public certificates of allowed
                                     clients, each with metadata "role":
                                     feeder, consumer, staff or service
   A client also has its own secret certificate (DP_CURVE_CLIENT_CERT).
   Without DP_CURVE_DIR every endpoint runs without security (development
   only; a warning says so) and every request counts as the staff role.
   Keys are refused by a process-wide zauth handler (czmq) that accepts only
   certificates found in clients/; removing a file revokes that client for
   new connections. CURVE_ALLOW_ANY is never used. */
#ifndef DP_SECURITY_H
#define DP_SECURITY_H

#include <czmq.h>
#include <stdbool.h>

/* Rows every service adds to its settings table. */
#define DP_SECURITY_SETTINGS                                                                       \
    {"DP_CURVE_DIR", "", "key folder (docs/security.md); empty: no CURVE, development only"},      \
    {"DP_CURVE_CLIENT_CERT", "", "own secret certificate, for calling other services"}

typedef enum {
    DP_ROLE_NONE = 0,
    DP_ROLE_FEEDER = 1 << 0,   /* feeding systems: submit enquiries */
    DP_ROLE_CONSUMER = 1 << 1, /* event consumers: read events */
    DP_ROLE_STAFF = 1 << 2,    /* the Division's staff: everything dpctl does */
    DP_ROLE_SERVICE = 1 << 3,  /* the services, asking each other */
    DP_ROLE_FRONTEND = 1 << 4, /* trusted front ends (the console): staff rights, and may
                                  name the person they act for (Request.on_behalf_of) */
    DP_ROLE_HEALTH = 1 << 5,   /* health checks: dp.HealthRequest only */
    DP_ROLE_ANY = 0x3f
} dp_role_t;

/* "feeder" -> DP_ROLE_FEEDER; DP_ROLE_NONE for anything else. */
dp_role_t dp_role_parse(const char *name);
const char *dp_role_name(dp_role_t role);

/* Makes `socket` a CURVE server with the service's certificate and starts
   (once per process) the zauth handler for <curve_dir>/clients. Does
   nothing when curve_dir is empty. Returns 0, or -1 with a log line. */
int dp_security_server(zsock_t *socket, const char *curve_dir, const char *service_name);
/* Releases this server's hold on the process-wide handler. */
void dp_security_server_done(const char *curve_dir);

/* The keys a client socket needs to talk to one service. */
typedef struct {
    char server_public[41]; /* the service's public key (Z85) */
    zcert_t *client;        /* the client's own certificate */
} dp_client_keys_t;

/* Loads <curve_dir>/services/<service>.key and the client certificate.
   Returns 1 when CURVE is on, 0 when curve_dir is empty, -1 on an error. */
int dp_client_keys_load(dp_client_keys_t *keys, const char *curve_dir, const char *client_cert,
                        const char *service_name);
void dp_client_keys_apply(const dp_client_keys_t *keys, zsock_t *socket);
void dp_client_keys_free(dp_client_keys_t *keys);

/* Writes a new certificate pair with metadata name and role (if given):
   the public part to public_path, the secret one to secret_path. */
int dp_security_new_cert(const char *public_path, const char *secret_path, const char *name,
                         const char *role);

#endif
