#include "dp_security.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp_keystore.h"
#include "dp_log.h"

static const char *s_role_names[] = {"feeder",  "consumer", "staff",
                                     "service", "frontend", "health"};
enum { ROLE_COUNT = sizeof s_role_names / sizeof s_role_names[0] };

dp_role_t dp_role_parse(const char *name)
{
    for (int i = 0; name && i < ROLE_COUNT; i++)
        if (strcmp(name, s_role_names[i]) == 0)
            return (dp_role_t)(1 << i);
    return DP_ROLE_NONE;
}

const char *dp_role_name(dp_role_t role)
{
    for (int i = 0; i < ROLE_COUNT; i++)
        if (role == (dp_role_t)(1 << i))
            return s_role_names[i];
    return "none";
}

/* One ZAP handler (RFC 27) serves every CURVE socket of the process (one
   ZeroMQ context), so that the handshake and dp_server's check at every
   request read the same key store. czmq's zauth is not used: it accepts
   certificates in subfolders and under any file name.

   Each (key folder, domain, roles) that a socket asks for is one entry of
   s_domains; the socket's ZAP domain is "<domain>/<entry number>", so
   sockets of one process may use different key folders (tests do). The
   entries and stores live until the last server is done with the handler.
   s_life_lock orders starting and stopping the handler; s_lock guards the
   tables, which the handler's thread reads too. */
static pthread_mutex_t s_life_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static zactor_t *s_auth;
static int s_auth_users;

typedef struct {
    char *curve_dir;      /* the key folder */
    dp_keystore_t *store; /* its clients/ */
} s_store_t;

typedef struct {
    char *zap_domain; /* the name asked for, e.g. "dp" */
    unsigned roles;   /* roles admitted at the handshake; DP_ROLE_ANY: any key */
    s_store_t *store; /* where keys are looked up */
} s_domain_t;

enum { S_MAX_DOMAINS = 64, S_MAX_STORES = 16 };
static s_store_t s_stores[S_MAX_STORES];
static size_t s_store_count;
static s_domain_t s_domains[S_MAX_DOMAINS];
static size_t s_domain_count;
/* When each refused key was last logged, so that a client that keeps
   reconnecting does not fill the log (Z85 key -> zclock_mono, in a pointer). */
static zhashx_t *s_refusals_logged;

/* The store of a key folder, or NULL. Called with s_lock held. */
static s_store_t *s_store_find(const char *curve_dir)
{
    for (size_t i = 0; i < s_store_count; i++)
        if (strcmp(s_stores[i].curve_dir, curve_dir) == 0)
            return &s_stores[i];
    return NULL;
}

/* The entry for a socket's ZAP domain "<name>/<number>", or NULL. Called
   with s_lock held. */
static s_domain_t *s_domain_parse(const char *text)
{
    const char *slash = strrchr(text, '/');
    if (!slash || !slash[1])
        return NULL;
    char *end = NULL;
    unsigned long index = strtoul(slash + 1, &end, 10);
    if (*end || index >= s_domain_count)
        return NULL;
    s_domain_t *domain = &s_domains[index];
    if (strlen(domain->zap_domain) != (size_t)(slash - text) ||
        strncmp(domain->zap_domain, text, (size_t)(slash - text)) != 0)
        return NULL;
    return domain;
}

/* Refusal lines a minute, over all keys: random keys cost a client nothing. */
enum { S_REFUSAL_LINES_PER_MINUTE = 60 };
static int64_t s_refusal_minute; /* zclock_mono when the current minute began */
static int s_refusal_lines;      /* lines logged in it */
static long s_refusals_unlogged; /* refusals past the limit, told at the next minute */

/* Logs a refused handshake, at most once a minute per key and
   S_REFUSAL_LINES_PER_MINUTE in all (the rest are counted). */
static void s_log_refusal(const char *key, const char *address, const char *why)
{
    if (!s_refusals_logged)
        s_refusals_logged = zhashx_new();
    if (!s_refusals_logged)
        return;
    int64_t now = zclock_mono();
    void *last = zhashx_lookup(s_refusals_logged, key);
    if (last && now - (int64_t)(intptr_t)last < 60000)
        return;
    if (now - s_refusal_minute >= 60000) {
        if (s_refusals_unlogged)
            dp_warning("audit: %ld more CURVE handshakes refused in the last minute (not "
                       "logged one by one)",
                       s_refusals_unlogged);
        s_refusal_minute = now;
        s_refusal_lines = 0;
        s_refusals_unlogged = 0;
    }
    if (s_refusal_lines >= S_REFUSAL_LINES_PER_MINUTE) {
        s_refusals_unlogged++;
        return;
    }
    s_refusal_lines++;
    if (zhashx_size(s_refusals_logged) > 1000)
        zhashx_purge(s_refusals_logged);
    zhashx_update(s_refusals_logged, key, (void *)(intptr_t)now);
    dp_warning("audit: refused the CURVE key %s from %s: %s", key, address, why);
}

/* Appends one ZMTP metadata property (name length, name, 4-byte big-endian
   value length, value) to the buffer. */
static void s_property(zchunk_t *metadata, const char *name, const char *value)
{
    size_t name_length = strlen(name), value_length = strlen(value);
    unsigned char head[1] = {(unsigned char)name_length};
    unsigned char length[4] = {(unsigned char)(value_length >> 24),
                               (unsigned char)(value_length >> 16),
                               (unsigned char)(value_length >> 8), (unsigned char)value_length};
    zchunk_extend(metadata, head, 1);
    zchunk_extend(metadata, name, name_length);
    zchunk_extend(metadata, length, 4);
    zchunk_extend(metadata, value, value_length);
}

/* Answers one ZAP request: [version, request id, domain, address, routing
   id, mechanism, credentials...]. */
static void s_zap_answer(zsock_t *handler)
{
    zmsg_t *request = zmsg_recv(handler);
    if (!request)
        return;
    char *version = zmsg_popstr(request);
    char *request_id = zmsg_popstr(request);
    char *domain_text = zmsg_popstr(request);
    char *address = zmsg_popstr(request);
    zframe_t *routing_id = zmsg_pop(request);
    char *mechanism = zmsg_popstr(request);
    zframe_t *credential = zmsg_pop(request);
    const char *status = "400", *status_text = "refused";
    char key[41] = "";
    zchunk_t *metadata = zchunk_new(NULL, 0);
    if (version && strcmp(version, "1.0") == 0 && mechanism && strcmp(mechanism, "CURVE") == 0 &&
        credential && zframe_size(credential) == 32 && zmsg_size(request) == 0 && domain_text &&
        metadata) {
        zmq_z85_encode(key, zframe_data(credential), 32);
        dp_key_info_t info;
        bool known = false, admitted = false;
        const char *zap_domain = "?";
        pthread_mutex_lock(&s_lock);
        s_domain_t *domain = s_domain_parse(domain_text);
        if (domain) {
            zap_domain = domain->zap_domain;
            dp_keystore_refresh(domain->store->store);
            known = dp_keystore_lookup(domain->store->store, key, &info);
            admitted = known && (domain->roles == DP_ROLE_ANY || (info.role & domain->roles));
        }
        if (!domain)
            s_log_refusal(key, address ? address : "?", "unknown ZAP domain");
        else if (!known)
            s_log_refusal(key, address ? address : "?", "not in clients/");
        else if (!admitted) {
            char why[200];
            snprintf(why, sizeof why, "'%s' has the role '%s', not admitted on %s", info.name,
                     info.role_name, zap_domain);
            s_log_refusal(key, address ? address : "?", why);
        }
        pthread_mutex_unlock(&s_lock);
        if (admitted) {
            status = "200";
            status_text = "OK";
            s_property(metadata, "name", info.name);
            s_property(metadata, "role", info.role_name);
            s_property(metadata, "sources", info.sources);
        }
    }
    zmsg_t *reply = zmsg_new();
    if (reply) {
        zmsg_addstr(reply, "1.0");
        zmsg_addstr(reply, request_id ? request_id : "");
        zmsg_addstr(reply, status);
        zmsg_addstr(reply, status_text);
        zmsg_addstr(reply, *status == '2' ? key : "");
        if (*status == '2' && metadata)
            zmsg_addmem(reply, zchunk_data(metadata), zchunk_size(metadata));
        else
            zmsg_addmem(reply, NULL, 0);
        zmsg_send(&reply, handler);
    }
    zchunk_destroy(&metadata);
    zframe_destroy(&credential);
    zstr_free(&mechanism);
    zframe_destroy(&routing_id);
    zstr_free(&address);
    zstr_free(&domain_text);
    zstr_free(&request_id);
    zstr_free(&version);
    zmsg_destroy(&request);
}

/* The handler's actor: a REP socket where libzmq sends ZAP requests. It
   stops only on $TERM (not on SIGINT), since handshakes without it would
   not be checked. */
static void s_zap_actor(zsock_t *pipe, void *args)
{
    (void)args;
    zsock_t *handler = zsock_new(ZMQ_REP);
    if (!handler || zsock_bind(handler, "inproc://zeromq.zap.01") != 0) {
        dp_error("cannot start the ZAP handler (inproc://zeromq.zap.01)");
        zsock_destroy(&handler);
        zsock_signal(pipe, 1);
        return;
    }
    zsock_signal(pipe, 0);
    bool running = true;
    while (running) {
        zmq_pollitem_t items[2] = {{zsock_resolve(pipe), 0, ZMQ_POLLIN, 0},
                                   {zsock_resolve(handler), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, -1) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            s_zap_answer(handler);
        if (items[0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv(pipe);
            running = command && strcmp(command, "$TERM") != 0;
            zstr_free(&command);
        }
    }
    zsock_destroy(&handler);
}

/* Registers (key folder, domain, roles) and starts the handler if need be.
   Returns the entry's number, or -1. */
static int s_auth_start(const char *curve_dir, const char *zap_domain, unsigned roles)
{
    pthread_mutex_lock(&s_life_lock);
    pthread_mutex_lock(&s_lock);
    int index = -1;
    s_store_t *store = s_store_find(curve_dir);
    if (!store && s_store_count < S_MAX_STORES) {
        dp_keystore_t *keys = dp_keystore_new(curve_dir);
        char *copy = keys ? strdup(curve_dir) : NULL;
        if (copy) {
            store = &s_stores[s_store_count++];
            store->curve_dir = copy;
            store->store = keys;
            dp_info("CURVE on: clients allowed from %s/clients (%zu keys)", curve_dir,
                    dp_keystore_size(keys));
        } else
            dp_keystore_destroy(&keys);
    }
    for (size_t i = 0; store && i < s_domain_count && index < 0; i++)
        if (s_domains[i].store == store && s_domains[i].roles == roles &&
            strcmp(s_domains[i].zap_domain, zap_domain) == 0)
            index = (int)i;
    if (store && index < 0 && s_domain_count < S_MAX_DOMAINS) {
        char *copy = strdup(zap_domain);
        if (copy) {
            s_domains[s_domain_count] = (s_domain_t){copy, roles, store};
            index = (int)s_domain_count++;
        }
    }
    pthread_mutex_unlock(&s_lock);
    if (index >= 0 && !s_auth) {
        s_auth = zactor_new(s_zap_actor, NULL);
        if (!s_auth)
            index = -1;
    }
    if (index >= 0)
        s_auth_users++;
    else
        dp_error("cannot start the key check for %s", curve_dir);
    pthread_mutex_unlock(&s_life_lock);
    return index;
}

void dp_security_server_done(const char *curve_dir)
{
    if (!curve_dir || !*curve_dir)
        return;
    pthread_mutex_lock(&s_life_lock);
    if (s_auth_users > 0 && --s_auth_users == 0) {
        /* The handler's thread takes s_lock: stop it before freeing. */
        zactor_destroy(&s_auth);
        pthread_mutex_lock(&s_lock);
        for (size_t i = 0; i < s_domain_count; i++)
            free(s_domains[i].zap_domain);
        for (size_t i = 0; i < s_store_count; i++) {
            free(s_stores[i].curve_dir);
            dp_keystore_destroy(&s_stores[i].store);
        }
        s_domain_count = s_store_count = 0;
        zhashx_destroy(&s_refusals_logged);
        s_refusal_minute = 0;
        s_refusal_lines = 0;
        s_refusals_unlogged = 0;
        pthread_mutex_unlock(&s_lock);
    }
    pthread_mutex_unlock(&s_life_lock);
}

int dp_security_server_roles(zsock_t *socket, const char *curve_dir, const char *service_name,
                             const char *zap_domain, unsigned allowed_roles)
{
    if (!curve_dir || !*curve_dir) {
        dp_warning("CURVE off (DP_CURVE_DIR is empty): anyone who reaches the port is staff");
        return 0;
    }
    if (!zap_domain || !*zap_domain || strchr(zap_domain, '/') || !allowed_roles) {
        dp_error("invalid ZAP domain or roles for %s", service_name);
        return -1;
    }
    char *path = zsys_sprintf("%s/services/%s.key_secret", curve_dir, service_name);
    zcert_t *cert = path ? zcert_load(path) : NULL;
    if (!cert) {
        dp_error("cannot load the service certificate %s", path ? path : "?");
        zstr_free(&path);
        return -1;
    }
    zstr_free(&path);
    int index = s_auth_start(curve_dir, zap_domain, allowed_roles & DP_ROLE_ANY);
    if (index < 0) {
        zcert_destroy(&cert);
        return -1;
    }
    zcert_apply(cert, socket);
    zsock_set_curve_server(socket, 1);
    char domain[256];
    snprintf(domain, sizeof domain, "%s/%d", zap_domain, index);
    zsock_set_zap_domain(socket, domain);
    /* Without a handler libzmq would let every key in; with this it refuses. */
    int enforce = 1;
    zmq_setsockopt(zsock_resolve(socket), 93 /* ZMQ_ZAP_ENFORCE_DOMAIN */, &enforce,
                   sizeof enforce);
    zcert_destroy(&cert);
    return 0;
}

int dp_security_server(zsock_t *socket, const char *curve_dir, const char *service_name)
{
    return dp_security_server_roles(socket, curve_dir, service_name, "dp", DP_ROLE_ANY);
}

bool dp_security_key_lookup(const char *curve_dir, const char *public_z85, dp_key_info_t *info)
{
    if (!curve_dir || !*curve_dir || !public_z85)
        return false;
    pthread_mutex_lock(&s_lock);
    s_store_t *store = s_store_find(curve_dir);
    bool known = false;
    if (store) {
        dp_keystore_refresh(store->store);
        known = dp_keystore_lookup(store->store, public_z85, info);
    }
    pthread_mutex_unlock(&s_lock);
    return known;
}

uint64_t dp_security_key_generation(const char *curve_dir)
{
    if (!curve_dir || !*curve_dir)
        return 0;
    pthread_mutex_lock(&s_lock);
    s_store_t *store = s_store_find(curve_dir);
    uint64_t generation = 0;
    if (store) {
        dp_keystore_refresh(store->store);
        generation = dp_keystore_generation(store->store);
    }
    pthread_mutex_unlock(&s_lock);
    return generation;
}

int dp_client_keys_load(dp_client_keys_t *keys, const char *curve_dir, const char *client_cert,
                        const char *service_name)
{
    memset(keys, 0, sizeof *keys);
    if (!curve_dir || !*curve_dir)
        return 0;
    char *path = zsys_sprintf("%s/services/%s.key", curve_dir, service_name);
    zcert_t *server = path ? zcert_load(path) : NULL;
    if (!server) {
        dp_error("cannot load the public key of %s from %s", service_name, path ? path : "?");
        zstr_free(&path);
        return -1;
    }
    zstr_free(&path);
    snprintf(keys->server_public, sizeof keys->server_public, "%s", zcert_public_txt(server));
    zcert_destroy(&server);
    keys->client = client_cert && *client_cert ? zcert_load(client_cert) : NULL;
    if (!keys->client) {
        dp_error("CURVE is on but the client certificate '%s' cannot be loaded "
                 "(DP_CURVE_CLIENT_CERT)",
                 client_cert ? client_cert : "");
        return -1;
    }
    return 1;
}

void dp_client_keys_apply(const dp_client_keys_t *keys, zsock_t *socket)
{
    if (!keys || !keys->client)
        return;
    zcert_apply(keys->client, socket);
    zsock_set_curve_serverkey(socket, keys->server_public);
}

void dp_client_keys_free(dp_client_keys_t *keys)
{
    if (keys)
        zcert_destroy(&keys->client);
}

int dp_security_new_client_cert(const char *public_path, const char *secret_path, const char *name,
                                const char *role, const char *sources)
{
    zcert_t *cert = zcert_new();
    if (!cert)
        return -1;
    zcert_set_meta(cert, "name", "%s", name);
    if (role && *role)
        zcert_set_meta(cert, "role", "%s", role);
    if (sources && *sources)
        zcert_set_meta(cert, "sources", "%s", sources);
    int outcome = zcert_save_public(cert, public_path) || zcert_save_secret(cert, secret_path);
    zcert_destroy(&cert);
    return outcome == 0 ? 0 : -1;
}

int dp_security_new_cert(const char *public_path, const char *secret_path, const char *name,
                         const char *role)
{
    return dp_security_new_client_cert(public_path, secret_path, name, role, NULL);
}
