#include "dp_security.h"

#include <pthread.h>
#include <string.h>

#include "dp_log.h"

static const char *s_role_names[] = {"feeder", "consumer", "staff", "service", "frontend", "health"};
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

/* One ZAP handler serves every socket of the process (one ZeroMQ context). */
static pthread_mutex_t s_auth_lock = PTHREAD_MUTEX_INITIALIZER;
static zactor_t *s_auth;
static int s_auth_users;

static int s_auth_start(const char *curve_dir)
{
    pthread_mutex_lock(&s_auth_lock);
    int outcome = 0;
    if (!s_auth) {
        char *clients = zsys_sprintf("%s/clients", curve_dir);
        s_auth = clients ? zactor_new(zauth, NULL) : NULL;
        if (s_auth) {
            zstr_sendx(s_auth, "CURVE", clients, NULL);
            zsock_wait(s_auth);
            dp_info("CURVE on: clients allowed from %s", clients);
        } else
            outcome = -1;
        zstr_free(&clients);
    }
    if (outcome == 0)
        s_auth_users++;
    pthread_mutex_unlock(&s_auth_lock);
    return outcome;
}

void dp_security_server_done(const char *curve_dir)
{
    if (!curve_dir || !*curve_dir)
        return;
    pthread_mutex_lock(&s_auth_lock);
    if (s_auth_users > 0 && --s_auth_users == 0)
        zactor_destroy(&s_auth);
    pthread_mutex_unlock(&s_auth_lock);
}

int dp_security_server(zsock_t *socket, const char *curve_dir, const char *service_name)
{
    if (!curve_dir || !*curve_dir) {
        dp_warning("CURVE off (DP_CURVE_DIR is empty): anyone who reaches the port is staff");
        return 0;
    }
    char *path = zsys_sprintf("%s/services/%s.key_secret", curve_dir, service_name);
    zcert_t *cert = path ? zcert_load(path) : NULL;
    if (!cert) {
        dp_error("cannot load the service certificate %s", path ? path : "?");
        zstr_free(&path);
        return -1;
    }
    zstr_free(&path);
    if (s_auth_start(curve_dir) != 0) {
        zcert_destroy(&cert);
        return -1;
    }
    zcert_apply(cert, socket);
    zsock_set_curve_server(socket, 1);
    zsock_set_zap_domain(socket, "dp");
    zcert_destroy(&cert);
    return 0;
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

int dp_security_new_cert(const char *public_path, const char *secret_path, const char *name,
                         const char *role)
{
    zcert_t *cert = zcert_new();
    if (!cert)
        return -1;
    zcert_set_meta(cert, "name", "%s", name);
    if (role && *role)
        zcert_set_meta(cert, "role", "%s", role);
    int outcome = zcert_save_public(cert, public_path) || zcert_save_secret(cert, secret_path);
    zcert_destroy(&cert);
    return outcome == 0 ? 0 : -1;
}
