#include "notify_target.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the URL and the allowlist -------------------------------------------------------- */

/* True when one allowlist entry (entry[0..length)) names the target. */
static bool s_entry_matches(const char *entry, size_t length, const notify_target_t *target)
{
    char text[300];
    if (length == 0 || length >= sizeof text)
        return false;
    memcpy(text, entry, length);
    text[length] = 0;
    for (char *p = text; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *host = text;
    char *port = NULL;
    if (*text == '[') {
        char *close = strchr(text, ']');
        if (!close)
            return false;
        *close = 0;
        host = text + 1;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1])
            return false;
    } else {
        char *colon = strchr(text, ':');
        /* More than one colon: a bare IPv6 address, without a port. */
        if (colon && !strchr(colon + 1, ':')) {
            *colon = 0;
            port = colon + 1;
        }
    }
    if (strcmp(host, target->host) != 0)
        return false;
    if (!port)
        return true;
    char *end = NULL;
    long number = strtol(port, &end, 10);
    return *port && !*end && number == target->port;
}

static bool s_allowlisted(const char *allow_hosts, const notify_target_t *target)
{
    const char *p = allow_hosts ? allow_hosts : "";
    while (*p) {
        size_t skip = strspn(p, ", \t");
        p += skip;
        size_t length = strcspn(p, ", \t");
        if (length && s_entry_matches(p, length, target))
            return true;
        p += length;
    }
    return false;
}

const char *notify_target_parse(const char *url, const char *allow_hosts, notify_target_t *target)
{
    static const char *const not_a_url = "url must be an http:// or https:// URL";
    memset(target, 0, sizeof *target);
    CURLU *parsed = curl_url();
    if (!parsed)
        return "out of memory";
    char *scheme = NULL, *host = NULL, *port = NULL, *zone = NULL;
    const char *refusal = NULL;
    if (curl_url_set(parsed, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        refusal = not_a_url;
    else if (curl_url_get(parsed, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK)
        refusal = "url must not name an IPv6 zone";
    else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        refusal = not_a_url;
    if (!refusal) {
        const char *bare = host;
        size_t length = strlen(host);
        if (*host == '[' && length >= 2 && host[length - 1] == ']') {
            bare = host + 1;
            length -= 2;
        }
        char *end = NULL;
        long number = strtol(port, &end, 10);
        if (length == 0 || length >= sizeof target->host || *end || number <= 0 || number > 65535)
            refusal = not_a_url;
        else {
            snprintf(target->scheme, sizeof target->scheme, "%s", scheme);
            memcpy(target->host, bare, length);
            target->host[length] = 0;
            for (char *p = target->host; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            target->port = (int)number;
            unsigned char buffer[sizeof(struct in6_addr)];
            target->literal = inet_pton(AF_INET, target->host, buffer) == 1 ||
                              inet_pton(AF_INET6, target->host, buffer) == 1;
            target->allowlisted = s_allowlisted(allow_hosts, target);
            if (strcmp(target->scheme, "https") != 0 && !target->allowlisted)
                refusal = "url must be https:// (http:// only for a host that "
                          "DP_WEBHOOK_ALLOW_HOSTS names)";
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(zone);
    curl_url_cleanup(parsed);
    return refusal;
}

/* ---- addresses ------------------------------------------------------------------------ */

static bool s_in(uint32_t address, uint32_t network, int bits)
{
    uint32_t mask = bits ? ~(uint32_t)0 << (32 - bits) : 0;
    return (address & mask) == network;
}

/* address in host byte order. */
static const char *s_v4_refusal(uint32_t address)
{
    if (s_in(address, 0x00000000, 8))
        return "unspecified";
    if (s_in(address, 0x7f000000, 8))
        return "loopback";
    if (s_in(address, 0xa9fe0000, 16))
        return "link-local";
    if (s_in(address, 0x0a000000, 8) || s_in(address, 0xac100000, 12) ||
        s_in(address, 0xc0a80000, 16))
        return "private";
    if (s_in(address, 0x64400000, 10))
        return "shared (carrier-grade NAT)";
    if (s_in(address, 0xc0000000, 24) || s_in(address, 0xc6120000, 15))
        return "reserved";
    if (s_in(address, 0xe0000000, 4))
        return "multicast";
    if (s_in(address, 0xf0000000, 4))
        return "reserved";
    return NULL;
}

static uint32_t s_v4_at(const unsigned char *bytes)
{
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
}

static const char *s_v6_refusal(const unsigned char *a)
{
    static const unsigned char zero[16] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (memcmp(a, zero, 15) == 0 && a[15] <= 1)
        return a[15] ? "loopback" : "unspecified";
    /* An IPv4 address inside an IPv6 one is judged as that IPv4 address. */
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return s_v4_refusal(s_v4_at(a + 12));
    if (a[0] == 0x20 && a[1] == 0x02) /* 6to4 */
        return s_v4_refusal(s_v4_at(a + 2));
    if (memcmp(a, zero, 12) == 0) /* IPv4-compatible, deprecated */
        return "reserved";
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return "link-local";
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
        return "site-local";
    if ((a[0] & 0xfe) == 0xfc)
        return "unique-local";
    if (a[0] == 0xff)
        return "multicast";
    if (a[0] == 0x01 && memcmp(a + 1, zero, 7) == 0) /* 100::/64, discard only */
        return "reserved";
    return NULL;
}

const char *notify_address_refusal(const struct sockaddr *address)
{
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
        return s_v4_refusal(ntohl(v4->sin_addr.s_addr));
    }
    if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
        return s_v6_refusal(v6->sin6_addr.s6_addr);
    }
    return "not an IP address";
}

void notify_address_text(const struct sockaddr *address, char *text, size_t size)
{
    const void *bytes = address->sa_family == AF_INET
                            ? (const void *)&((const struct sockaddr_in *)address)->sin_addr
                            : (const void *)&((const struct sockaddr_in6 *)address)->sin6_addr;
    if (size == 0)
        return;
    if ((address->sa_family != AF_INET && address->sa_family != AF_INET6) ||
        !inet_ntop(address->sa_family, bytes, text, (socklen_t)size))
        snprintf(text, size, "?");
}

/* ---- lookups --------------------------------------------------------------------------- */

struct _notify_lookup_t {
    pthread_mutex_t lock;
    pthread_cond_t done_cond;
    int holds;               /* the caller and the thread */
    bool done;               /* the answer is in */
    int status;              /* getaddrinfo's */
    struct addrinfo *result; /* its addresses */
    char host[256];
    char port[8];
};

static void s_lookup_release(notify_lookup_t *self)
{
    pthread_mutex_lock(&self->lock);
    bool last = --self->holds == 0;
    pthread_mutex_unlock(&self->lock);
    if (!last)
        return;
    if (self->result)
        freeaddrinfo(self->result);
    pthread_cond_destroy(&self->done_cond);
    pthread_mutex_destroy(&self->lock);
    free(self);
}

static void *s_lookup_thread(void *arg)
{
    notify_lookup_t *self = arg;
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
    struct addrinfo *result = NULL;
    int status = getaddrinfo(self->host, self->port, &hints, &result);
    pthread_mutex_lock(&self->lock);
    self->status = status;
    self->result = status == 0 ? result : NULL;
    self->done = true;
    pthread_cond_broadcast(&self->done_cond);
    pthread_mutex_unlock(&self->lock);
    s_lookup_release(self);
    return NULL;
}

notify_lookup_t *notify_lookup_start(const char *host, int port)
{
    notify_lookup_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->done_cond, NULL);
    snprintf(self->host, sizeof self->host, "%s", host);
    snprintf(self->port, sizeof self->port, "%d", port);
    self->holds = 2;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int started = pthread_create(&thread, &attributes, s_lookup_thread, self);
    pthread_attr_destroy(&attributes);
    if (started != 0) {
        self->holds = 1;
        s_lookup_release(self);
        return NULL;
    }
    return self;
}

bool notify_lookup_wait(notify_lookup_t *self, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&self->lock);
    while (!self->done && timeout_ms > 0 &&
           pthread_cond_timedwait(&self->done_cond, &self->lock, &until) == 0)
        ;
    bool done = self->done;
    pthread_mutex_unlock(&self->lock);
    return done;
}

const struct addrinfo *notify_lookup_result(notify_lookup_t *self, int *status)
{
    pthread_mutex_lock(&self->lock);
    const struct addrinfo *result = self->done ? self->result : NULL;
    *status = self->done ? self->status : EAI_AGAIN;
    pthread_mutex_unlock(&self->lock);
    return result;
}

void notify_lookup_destroy(notify_lookup_t **self_p)
{
    if (*self_p)
        s_lookup_release(*self_p);
    *self_p = NULL;
}
