/* Where a webhook may POST. A webhook's URL names a host that is resolved
   and whose every address is checked: loopback, link-local, private,
   unique-local, unspecified, multicast and other special-purpose addresses
   are refused (the service would otherwise be a way into the network it
   runs in: the metrics ports, PostgreSQL, a cloud's metadata address),
   unless DP_WEBHOOK_ALLOW_HOSTS names the host. https is required unless
   the host is allowlisted. The delivery connects only to the addresses
   checked (curl's resolve pinning, and a check of the address at the
   socket itself), so a name that resolves differently a moment later
   (DNS rebinding) gains nothing. */
#ifndef NOTIFY_TARGET_H
#define NOTIFY_TARGET_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* A webhook URL taken apart. */
typedef struct {
    char scheme[8];   /* "http" or "https" */
    char host[256];   /* lower case, without the brackets of an IPv6 literal */
    int port;         /* explicit or the scheme's */
    bool literal;     /* the host is an IP address */
    bool allowlisted; /* DP_WEBHOOK_ALLOW_HOSTS names host or host:port */
} notify_target_t;

/* Parses url and matches it against allow_hosts (comma- or space-separated
   "host" or "host:port" entries; "[v6]:port" for IPv6). Returns NULL, or
   a refusal for the caller (static text): not a URL, or http for a host
   that is not allowlisted. */
const char *notify_target_parse(const char *url, const char *allow_hosts, notify_target_t *target);

/* NULL when an address may be the target of a webhook, else what kind of
   address it is ("loopback", "private", "link-local", ...). */
const char *notify_address_refusal(const struct sockaddr *address);
/* The address as text ("10.0.0.1", "::1"). */
void notify_address_text(const struct sockaddr *address, char *text, size_t size);

/* A name resolved in a thread of its own, so that nobody waits on DNS
   longer than they choose. */
typedef struct _notify_lookup_t notify_lookup_t;

/* Starts resolving host (TCP, any family); NULL when out of memory. */
notify_lookup_t *notify_lookup_start(const char *host, int port);
/* Waits up to timeout_ms (0: just looks) for the answer; true once it is in. */
bool notify_lookup_wait(notify_lookup_t *self, int timeout_ms);
/* After a true wait: the addresses (owned by the lookup), or NULL with
 *status the getaddrinfo error. */
const struct addrinfo *notify_lookup_result(notify_lookup_t *self, int *status);
/* Gives up the caller's hold; the thread frees the lookup when it ends. */
void notify_lookup_destroy(notify_lookup_t **self_p);

#endif
