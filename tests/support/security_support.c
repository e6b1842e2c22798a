#include "security_support.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dp_codec.h"
#include "dp_config.h"
#include "dp_security.h"
#include "dp_server.h"
#include "test_wire.h"

/* Replies are small; this only bounds what a broken service could make us decode. */
enum { MAX_REPLY_BYTES = 16 << 20 };

/* ---- The services in process ------------------------------------------------ */

/* With CURVE on, the registry and the intake refuse the default privacy key
   and any shorter than 32 bytes (dp_privacy_key_check). */
#define TK_PRIVACY_KEY "security-tests-privacy-key-7d41c09e5b"
/* Metrics off and the privacy key, per service; the intake follows notify
   only when a test says where notify is. */
static const char *const s_registry_defaults[] = {"DP_METRICS_PORT", "-1", "DP_PRIVACY_KEY",
                                                  TK_PRIVACY_KEY, NULL};
static const char *const s_intake_defaults[] = {
    "DP_METRICS_PORT", "-1", "DP_NOTIFY_PUB_ENDPOINT", "", "DP_PRIVACY_KEY", TK_PRIVACY_KEY, NULL};
static const char *const s_others_defaults[] = {"DP_METRICS_PORT", "-1", NULL};

static const char *const *const s_defaults[TK_SERVICE_COUNT] = {
    [TK_REGISTRY] = s_registry_defaults,
    [TK_INTAKE] = s_intake_defaults,
    [TK_NOTIFY] = s_others_defaults,
    [TK_REPORT] = s_others_defaults,
};

const char *tk_kind_name(tk_kind_t kind)
{
    return tf_kind_name((tf_kind_t)kind);
}

tk_service_t *tk_service_start(tk_kind_t kind, const char *database_url,
                               const char *const *settings)
{
    assert_true(kind < TK_SERVICE_COUNT);
    return tf_service_start_with((tf_kind_t)kind, database_url, s_defaults[kind], settings);
}

void tk_service_stop(tk_service_t **self_p)
{
    tf_service_stop(self_p);
}

const char *tk_service_endpoint(const tk_service_t *self)
{
    return tf_service_endpoint(self);
}

char *tk_service_ask(tk_service_t *self, const char *command)
{
    return tf_service_ask(self, command);
}

/* ---- A CurveZMQ key folder --------------------------------------------------- */

static const char *const s_roles[] = {"feeder", "consumer", "staff", "service", NULL};

struct _ss_keys_t {
    char dir[64]; /* the temporary folder */
};

/* "<dir>/<part>" in a static buffer ring. */
static const char *s_path(const tk_keys_t *self, const char *format, const char *name)
{
    static char ring[8][512];
    static unsigned next;
    char *buffer = ring[next++ % 8];
    char part[256];
    snprintf(part, sizeof part, format, name);
    snprintf(buffer, sizeof ring[0], "%s/%s", self->dir, part);
    return buffer;
}

tk_keys_t *tk_keys_new(void)
{
    tk_keys_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    snprintf(self->dir, sizeof self->dir, "/tmp/dp-keys-XXXXXX");
    if (!mkdtemp(self->dir)) {
        fprintf(stderr, "FATAL: mkdtemp: %s\n", strerror(errno));
        exit(1);
    }
    const char *folders[] = {"services", "clients", "private"};
    for (size_t i = 0; i < 3; i++)
        if (mkdir(s_path(self, "%s", folders[i]), 0700) != 0) {
            fprintf(stderr, "FATAL: mkdir %s: %s\n", folders[i], strerror(errno));
            exit(1);
        }
    for (int kind = 0; kind < TK_SERVICE_COUNT; kind++) {
        const char *name = tk_kind_name((tk_kind_t)kind);
        char public_path[512];
        snprintf(public_path, sizeof public_path, "%s", s_path(self, "services/%s.key", name));
        if (dp_security_new_cert(public_path, s_path(self, "services/%s.key_secret", name), name,
                                 NULL) != 0) {
            fprintf(stderr, "FATAL: cannot make the certificate of the %s\n", name);
            exit(1);
        }
    }
    for (const char *const *role = s_roles; *role; role++) {
        char name[64];
        snprintf(name, sizeof name, "%s-client", *role);
        tk_keys_add_client(self, name, *role, true);
    }
    return self;
}

void tk_keys_destroy(tk_keys_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tk_keys_t *self = *self_p;
    zdir_t *dir = zdir_new(self->dir, NULL);
    if (dir)
        zdir_remove(dir, true);
    zdir_destroy(&dir);
    free(self);
    *self_p = NULL;
}

const char *tk_keys_dir(const tk_keys_t *self)
{
    return self->dir;
}

void tk_keys_add_client(tk_keys_t *self, const char *name, const char *role, bool allowed)
{
    /* The public half is written beside the secret one first, then moved
       into clients/ in one step, so that the service never reads half a file. */
    char public_path[512], secret_path[512];
    snprintf(public_path, sizeof public_path, "%s", s_path(self, "private/%s.key", name));
    snprintf(secret_path, sizeof secret_path, "%s", s_path(self, "private/%s.key_secret", name));
    assert_int_equal(dp_security_new_cert(public_path, secret_path, name, role), 0);
    if (allowed)
        assert_int_equal(rename(public_path, s_path(self, "clients/%s.key", name)), 0);
    else
        assert_int_equal(unlink(public_path), 0);
}

const char *tk_keys_secret_path(const tk_keys_t *self, const char *name)
{
    return s_path(self, "private/%s.key_secret", name);
}

void tk_keys_revoke(tk_keys_t *self, const char *name)
{
    assert_int_equal(unlink(s_path(self, "clients/%s.key", name)), 0);
}

/* ---- Raw clients ------------------------------------------------------------- */

struct _ss_client_t {
    zsock_t *dealer; /* the connection */
    unsigned sent;   /* requests sent, for their ids */
};

tk_client_t *tk_client_new(const char *endpoint, const tk_keys_t *keys, tk_kind_t service,
                           const char *client_secret)
{
    tk_client_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    self->dealer = zsock_new(ZMQ_DEALER);
    assert_non_null(self->dealer);
    zsock_set_linger(self->dealer, 0);
    if (client_secret) {
        dp_client_keys_t client_keys;
        assert_int_equal(
            dp_client_keys_load(&client_keys, keys->dir, client_secret, tk_kind_name(service)), 1);
        dp_client_keys_apply(&client_keys, self->dealer);
        dp_client_keys_free(&client_keys);
    }
    assert_int_equal(zsock_connect(self->dealer, "%s", endpoint), 0);
    return self;
}

void tk_client_destroy(tk_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zsock_destroy(&(*self_p)->dealer);
    free(*self_p);
    *self_p = NULL;
}

Dp__Reply *tk_exchange(tk_client_t *self, const ProtobufCMessage *request, int timeout_ms)
{
    char request_id[32];
    snprintf(request_id, sizeof request_id, "ss-%u", ++self->sent);
    zmsg_t *message = ts_request_message(request_id, request);
    assert_int_equal(zmsg_send(&message, self->dealer), 0);
    int64_t deadline = zclock_mono() + timeout_ms;
    while (true) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0)
            return NULL;
        zsock_set_rcvtimeo(self->dealer, (int)left);
        zmsg_t *answer = zmsg_recv(self->dealer);
        if (!answer)
            return NULL;
        zframe_t *delimiter = zmsg_first(answer);
        zframe_t *body = zmsg_next(answer);
        if (zmsg_size(answer) != 2 || zframe_size(delimiter) != 0) {
            zmsg_destroy(&answer);
            fail_msg("%s: the answer is not [empty, dp.Reply]", request->descriptor->name);
        }
        Dp__Reply *reply = (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(body),
                                                          zframe_size(body), MAX_REPLY_BYTES);
        zmsg_destroy(&answer);
        if (!reply || !reply->status)
            fail_msg("%s: the answer does not decode as dp.Reply with a status",
                     request->descriptor->name);
        if (strcmp(reply->request_id, request_id) == 0)
            return reply;
        /* An answer to an earlier request that timed out: not this one's. */
        dp_message_free((ProtobufCMessage **)&reply);
    }
}

/* ---- Standard error captured ------------------------------------------------- */

struct _ss_capture_t {
    char path[64]; /* the file that receives fd 2 */
    int saved_fd;  /* the original standard error */
};

tk_capture_t *tk_capture_start(void)
{
    tk_capture_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    snprintf(self->path, sizeof self->path, "/tmp/dp-stderr-XXXXXX");
    int fd = mkstemp(self->path);
    self->saved_fd = dup(STDERR_FILENO);
    if (fd < 0 || self->saved_fd < 0) {
        fprintf(stderr, "FATAL: cannot capture standard error: %s\n", strerror(errno));
        exit(1);
    }
    fflush(stderr);
    dup2(fd, STDERR_FILENO);
    close(fd);
    return self;
}

char *tk_capture_text(tk_capture_t *self)
{
    fflush(stderr);
    FILE *file = fopen(self->path, "rb");
    assert_non_null(file);
    size_t size = 0, capacity = 65536;
    char *text = malloc(capacity);
    assert_non_null(text);
    size_t got;
    while ((got = fread(text + size, 1, capacity - size - 1, file)) > 0) {
        size += got;
        if (capacity - size < 4096) {
            capacity *= 2;
            text = realloc(text, capacity);
            assert_non_null(text);
        }
    }
    fclose(file);
    text[size] = 0;
    return text;
}

void tk_capture_end(tk_capture_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tk_capture_t *self = *self_p;
    fflush(stderr);
    dup2(self->saved_fd, STDERR_FILENO);
    close(self->saved_fd);
    FILE *file = fopen(self->path, "rb");
    if (file) {
        char buffer[8192];
        size_t got;
        while ((got = fread(buffer, 1, sizeof buffer, file)) > 0)
            fwrite(buffer, 1, got, stderr);
        fclose(file);
    }
    unlink(self->path);
    free(self);
    *self_p = NULL;
}
