/* CurveZMQ on every endpoint, and roles from client certificates.

   A key folder (DP_CURVE_DIR) holds:
     services/<service>.key_secret   each service's own certificate (secret)
     services/<service>.key          its public part, given to clients
     clients/<name>.key              the public certificates of allowed
                                     clients, with metadata "name", "role"
                                     (feeder, consumer, staff, service,
                                     frontend or health) and, for a feeder,
                                     "sources"
   A client also has its own secret certificate (DP_CURVE_CLIENT_CERT).
   Without DP_CURVE_DIR every endpoint runs without security (development
   only; a warning says so) and every request counts as the staff role.
   Keys are checked against the key store of dp_keystore.h (only files
   named <name>.key directly in clients/ count) by a process-wide ZAP
   handler of our own at the handshake, and by dp_server at every request:
   removing, renaming or moving a file revokes that client at once
   (within a second for a file rewritten in place), connected or not.
   CURVE_ALLOW_ANY is never used. */
#ifndef DP_SECURITY_H
#define DP_SECURITY_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "dp_keystore.h"

/* Rows every service adds to its settings table. */
#define DP_SECURITY_SETTINGS                                                                       \
    {"DP_CURVE_DIR", "", "key folder (docs/security.md); empty: no CURVE, development only"},      \
    {                                                                                              \
        "DP_CURVE_CLIENT_CERT", "", "own secret certificate, for calling other services"           \
    }

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

/* Makes `socket` a CURVE server with the service's certificate
   (<curve_dir>/services/<service_name>.key_secret) whose handshakes admit
   only keys in the key store whose certificate role is one of
   allowed_roles (DP_ROLE_* bits). DP_ROLE_ANY admits every key in the
   store, a key without a known role included (it is then refused request
   by request, with a clear PERMISSION_DENIED). Keys are looked up by the
   process-wide ZAP handler, started by the first such socket; the socket's
   ZAP domain is zap_domain with a suffix of ours ("dp-events/1"), so
   zap_domain must not contain '/'. A handshake with a key that is not
   admitted fails (the client sees silence; an "audit:" warning is logged,
   at most once a minute per key and 60 a minute in all, the rest
   counted); ZMQ_ZAP_ENFORCE_DOMAIN is set, so a
   missing handler refuses rather than admits. Already established
   connections are not touched: see dp_security_key_generation. Does
   nothing when curve_dir is empty (warning logged). Returns 0, or -1 with
   a log line. Pair each successful call with dp_security_server_done. */
int dp_security_server_roles(zsock_t *socket, const char *curve_dir, const char *service_name,
                             const char *zap_domain, unsigned allowed_roles);
/* dp_security_server_roles with domain "dp" and DP_ROLE_ANY: the ROUTER of
   every service, where roles are checked request by request. */
int dp_security_server(zsock_t *socket, const char *curve_dir, const char *service_name);
/* Releases one hold on the process-wide handler (one per successful
   dp_security_server(_roles) call); the last one stops it. */
void dp_security_server_done(const char *curve_dir);

/* A number that changes (grows by one) whenever a key leaves the key store
   of curve_dir (its file removed, renamed, moved into a subfolder) or its
   certificate's metadata changes. The folder is looked at again at most
   once a second, so calling it every poll turn is cheap (a clock read and
   a lock). A socket owner that cannot check every message (a PUB) keeps
   the value it saw when it made its socket and, when it differs, makes the
   socket again, which drops every peer and makes each one pass the
   handshake anew. 0 when curve_dir is empty or no socket holds the
   handler (it restarts from 0 after the last dp_security_server_done). */
uint64_t dp_security_key_generation(const char *curve_dir);

/* Looks up a client's public key (Z85, as zframe_meta(frame, "User-Id")
   gives it) in the current key store of curve_dir (looked at again at
   most once a second). True, with `info` filled, when it is allowed;
   false when it is not, or when no socket of this process serves that
   folder. */
bool dp_security_key_lookup(const char *curve_dir, const char *public_z85, dp_key_info_t *info);

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
/* The same with metadata "sources" too (comma-separated source names a
   feeder may submit under) when sources is neither NULL nor empty. */
int dp_security_new_client_cert(const char *public_path, const char *secret_path, const char *name,
                                const char *role, const char *sources);

#endif
