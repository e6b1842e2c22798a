/* The intake's partner actor: everything about the partner map that waits
   on another service runs here, never on the server thread.

   - It asks the registry for partner domains and areas with its own DEALER
     socket and never blocks on the answer: the request is in flight while
     the actor polls its pipe, the registry and the event stream, so $TERM
     is honoured at once whatever the registry does. No answer within the
     attempt time: the socket is replaced (Lazy Pirate) and the question is
     asked again after a backoff that grows up to the refresh period.
   - It listens to partner.* events on notify's PUB socket. Any such event
     means a partner may have changed its domains: the map is asked for
     again soon. A missed event needs no replay, since the next periodic
     refresh brings the same map; so nothing here waits on a replay.
   - Each fresh map goes to the server over the pipe, malamute's way, as
     the registry's two answers ("PARTNERS", domains, areas: protobuf bytes,
     so that nothing is owned by two threads and nothing leaks when a
     message is left unread at shutdown): the server builds and installs
     the map between two requests and answers "INSTALLED" (or "REFUSED"). From then on every
   submission is matched at intake; the enquiries stored before, while there was no map
     (partner_pending), are matched here with the actor's own database
     connection, in small transactions, each change with its event
     enquiry.partner_matched (ids only). */
#include "intake_partners.h"

#include <inttypes.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <string.h>

#include "dp_client.h"
#include "dp_codec.h"
#include "dp_db.h"
#include "dp_events.h"
#include "dp_log.h"
#include "dp_security.h"
#include "events.pb-c.h"
#include "intake_db.h"
#include "intake_triage.h"
#include "registry.pb-c.h"

enum {
    ATTEMPT_MS = 3000,    /* a registry that has not answered by then is asked again */
    FIRST_RETRY_MS = 500, /* after a failure, then doubling ... */
    MAX_RETRY_MS = 10000, /* ... up to this (or the refresh period, if shorter) */
    EVENT_DELAY_MS = 100, /* partner.* events that come together cause one reload */
    MATCH_BATCH = 500,    /* pending enquiries matched per transaction */
    MAX_REPLY_BYTES = 64 * 1024 * 1024,
    POLL_CAP_MS = 1000
};

typedef enum { ASK_NONE, ASK_DOMAINS, ASK_AREAS } asking_t;

typedef struct {
    zsock_t *pipe;                        /* to the server thread */
    const char *registry_endpoint;        /* where partner domains come from */
    int refresh_ms;                       /* how often the map is asked for at least */
    dp_client_keys_t registry_keys;       /* CURVE keys for the registry, if on */
    bool registry_curve;                  /* keys loaded */
    dp_client_keys_t notify_keys;         /* CURVE keys for notify's PUB, if on */
    zsock_t *registry;                    /* DEALER; replaced after an unanswered attempt */
    zsock_t *events;                      /* SUB to partner.* events, or NULL */
    dp_db_t *db;                          /* the actor's own connection, for matching */
    asking_t asking;                      /* which question is in flight */
    char request_id[64];                  /* of the question in flight */
    uint64_t sequence;                    /* numbers the questions */
    int64_t deadline;                     /* the answer is due by then (zclock_mono) */
    int64_t next_ask;                     /* when to ask next */
    int retry_ms;                         /* the current backoff */
    Dp__ListPartnerDomainsReply *domains; /* the first answer, while the second is asked */
    zframe_t *domains_body;               /* ... and its bytes, for the server */
    intake_partners_t *matcher;           /* the map the pending enquiries are matched with */
    bool match_due;                       /* the server installed a map: match pending enquiries */
    bool handed;                          /* a map went to the server and is not installed yet */
    bool terminated;                      /* $TERM came */
} partners_t;

/* ---- asking the registry ------------------------------------------------------------- */

static int s_connect(partners_t *self)
{
    zsock_destroy(&self->registry);
    self->registry = zsock_new(ZMQ_DEALER);
    if (!self->registry)
        return -1;
    zsock_set_linger(self->registry, 0);
    /* Never block on a send: a refused one is asked again after the backoff. */
    zsock_set_sndtimeo(self->registry, 0);
    zsock_set_maxmsgsize(self->registry, MAX_REPLY_BYTES);
    if (self->registry_curve)
        dp_client_keys_apply(&self->registry_keys, self->registry);
    /* One or more comma-separated endpoints (replicas), as dp_client takes them. */
    return dp_client_connect_all(self->registry, self->registry_endpoint) > 0 ? 0 : -1;
}

static int s_send(partners_t *self, const ProtobufCMessage *request)
{
    snprintf(self->request_id, sizeof self->request_id, "intake-partners-%" PRIu64,
             ++self->sequence);
    size_t body_size = 0;
    unsigned char *body = dp_message_pack(request, &body_size);
    Dp__Request envelope = DP__REQUEST__INIT;
    envelope.request_id = self->request_id;
    envelope.type = (char *)request->descriptor->name;
    envelope.body.data = body;
    envelope.body.len = body_size;
    size_t size = 0;
    unsigned char *packed = body ? dp_message_pack(&envelope.base, &size) : NULL;
    free(body);
    zmsg_t *message = packed ? zmsg_new() : NULL;
    if (message) {
        zmsg_addmem(message, NULL, 0);
        zmsg_addmem(message, packed, size);
    }
    free(packed);
    /* The DEALER queues while the registry is away: sending never blocks here. */
    if (!message || zmsg_send(&message, self->registry) != 0) {
        zmsg_destroy(&message);
        return -1;
    }
    self->deadline = zclock_mono() + ATTEMPT_MS;
    return 0;
}

static void s_ask(partners_t *self, asking_t what)
{
    Dp__ListPartnerDomainsRequest domains = DP__LIST_PARTNER_DOMAINS_REQUEST__INIT;
    Dp__ListAreasRequest areas = DP__LIST_AREAS_REQUEST__INIT;
    self->asking = what;
    if (s_send(self, what == ASK_DOMAINS ? &domains.base : &areas.base) != 0) {
        dp_warning("partner domains: cannot send to %s", self->registry_endpoint);
        self->asking = ASK_NONE;
        self->next_ask = zclock_mono() + self->retry_ms;
    }
}

/* The question failed: a fresh socket drops what the old one queued, and
   the next attempt comes after the backoff. */
static void s_failed(partners_t *self, const char *why)
{
    if (self->retry_ms == FIRST_RETRY_MS || self->retry_ms >= MAX_RETRY_MS)
        dp_warning("partner domains not refreshed: %s (asking again in %d ms)", why,
                   self->retry_ms);
    dp_message_free((ProtobufCMessage **)&self->domains);
    zframe_destroy(&self->domains_body);
    self->asking = ASK_NONE;
    self->next_ask = zclock_mono() + self->retry_ms;
    int ceiling = self->refresh_ms < MAX_RETRY_MS ? self->refresh_ms : MAX_RETRY_MS;
    self->retry_ms = self->retry_ms * 2 > ceiling ? ceiling : self->retry_ms * 2;
    s_connect(self);
}

/* Both answers are in: their bytes go to the server, and the actor keeps a
   map of its own for matching. */
static void s_hand_over(partners_t *self, const Dp__ListAreasReply *areas, const void *areas_body,
                        size_t areas_size)
{
    intake_partners_t *mine = intake_partners_new(self->domains, areas);
    zmsg_t *message = mine ? zmsg_new() : NULL;
    if (!message) {
        intake_partners_destroy(&mine);
        s_failed(self, "out of memory");
        return;
    }
    zmsg_addstr(message, "PARTNERS");
    zmsg_append(message, &self->domains_body);
    zmsg_addmem(message, areas_body, areas_size);
    dp_message_free((ProtobufCMessage **)&self->domains);
    self->asking = ASK_NONE;
    intake_partners_destroy(&self->matcher);
    self->matcher = mine;
    self->retry_ms = FIRST_RETRY_MS;
    self->next_ask = zclock_mono() + self->refresh_ms;
    if (zmsg_send(&message, self->pipe) != 0) {
        zmsg_destroy(&message);
        return;
    }
    self->handed = true;
}

/* Takes one message off the registry socket. */
static void s_on_registry(partners_t *self)
{
    zmsg_t *message = zmsg_recv(self->registry);
    if (!message)
        return;
    zframe_t *frame = zmsg_last(message);
    Dp__Reply *reply =
        zmsg_size(message) == 2
            ? (Dp__Reply *)dp_message_decode(&dp__reply__descriptor, zframe_data(frame),
                                             zframe_size(frame), (size_t)MAX_REPLY_BYTES * 4)
            : NULL;
    zmsg_destroy(&message);
    if (!reply)
        return;
    /* A late answer to an earlier attempt is dropped. */
    if (self->asking == ASK_NONE || strcmp(reply->request_id, self->request_id) != 0) {
        dp_message_free((ProtobufCMessage **)&reply);
        return;
    }
    if (reply->status && reply->status->code != DP__CODE__CODE_OK) {
        char why[600];
        snprintf(why, sizeof why, "%s: %s", dp_code_name(reply->status->code),
                 reply->status->message);
        dp_message_free((ProtobufCMessage **)&reply);
        s_failed(self, why);
        return;
    }
    if (self->asking == ASK_DOMAINS) {
        self->domains = (Dp__ListPartnerDomainsReply *)dp_message_decode(
            &dp__list_partner_domains_reply__descriptor, reply->body.data, reply->body.len,
            (size_t)MAX_REPLY_BYTES * 4);
        self->domains_body = self->domains ? zframe_new(reply->body.data, reply->body.len) : NULL;
        dp_message_free((ProtobufCMessage **)&reply);
        if (!self->domains || !self->domains_body)
            s_failed(self, "the partner domains do not decode");
        else
            s_ask(self, ASK_AREAS);
        return;
    }
    Dp__ListAreasReply *areas =
        (Dp__ListAreasReply *)dp_message_decode(&dp__list_areas_reply__descriptor, reply->body.data,
                                                reply->body.len, (size_t)MAX_REPLY_BYTES * 4);
    if (!areas)
        s_failed(self, "the areas do not decode");
    else
        s_hand_over(self, areas, reply->body.data, reply->body.len);
    dp_message_free((ProtobufCMessage **)&areas);
    dp_message_free((ProtobufCMessage **)&reply);
}

/* ---- partner.* events ----------------------------------------------------------------- */

/* Drains what arrived; any partner event makes the map due soon. */
static void s_on_events(partners_t *self)
{
    bool partner = false;
    while (zsock_events(self->events) & ZMQ_POLLIN) {
        char *topic = zstr_recv(self->events);
        if (!topic)
            break;
        partner = partner || strncmp(topic, "partner.", 8) == 0;
        zstr_free(&topic);
        while (zsock_rcvmore(self->events)) {
            zframe_t *rest = zframe_recv(self->events);
            zframe_destroy(&rest);
        }
    }
    int64_t soon = zclock_mono() + EVENT_DELAY_MS;
    if (partner && self->asking == ASK_NONE && self->next_ask > soon)
        self->next_ask = soon;
}

/* ---- matching what was stored without a map --------------------------------------------- */

typedef struct {
    partners_t *self; /* the actor */
    size_t taken;     /* pending enquiries looked at */
    size_t matched;   /* of them matched to a partner */
} match_t;

static dp_txn_outcome_t s_match_body(dp_db_t *db, void *arg)
{
    match_t *match = arg;
    match->taken = match->matched = 0;
    dp_arena_t *arena = dp_arena_new();
    json_t *rows = json_array();
    int64_t *ids = NULL;
    char **emails = NULL;
    size_t count = 0;
    dp_txn_outcome_t outcome = DP_TXN_FAILED;
    if (!arena || !rows ||
        intake_db_pending_partners(db, arena, MATCH_BATCH, &ids, &emails, &count) < 0)
        goto done;
    int64_t *partner_ids = calloc(count ? count : 1, sizeof *partner_ids);
    if (!partner_ids)
        goto done;
    for (size_t i = 0; i < count; i++) {
        const char *slug = "";
        bool found = intake_partners_match(match->self->matcher, emails[i], &partner_ids[i], &slug);
        json_t *row = found ? json_pack("{s:I, s:I, s:s}", "id", (json_int_t)ids[i], "partner_id",
                                        (json_int_t)partner_ids[i], "partner_slug", slug)
                            : json_pack("{s:I}", "id", (json_int_t)ids[i]);
        if (!row || json_array_append_new(rows, row) != 0) {
            free(partner_ids);
            goto done;
        }
    }
    char *text = json_dumps(rows, JSON_COMPACT);
    bool failed = !text || intake_db_resolve_partners(db, text) < 0;
    free(text);
    for (size_t i = 0; !failed && i < count; i++) {
        if (!partner_ids[i])
            continue;
        /* Ids only: who wrote is not the stream's business. */
        Dp__EnquiryEvent event = DP__ENQUIRY_EVENT__INIT;
        event.enquiry_id = ids[i];
        event.partner_id = partner_ids[i];
        failed = intake_db_append_event(db, "enquiry.partner_matched", ids[i], &event.base) < 0;
        match->matched++;
    }
    free(partner_ids);
    match->taken = count;
    outcome = failed ? DP_TXN_FAILED : DP_TXN_COMMIT;
done:
    json_decref(rows);
    dp_arena_destroy(&arena);
    return outcome;
}

/* One transaction of matching; the pipe is polled between two. */
static void s_match_some(partners_t *self)
{
    if (!self->db || !self->matcher) {
        self->match_due = false;
        return;
    }
    match_t match = {self, 0, 0};
    if (dp_db_transaction(self->db, s_match_body, &match) != 0) {
        /* The database is away: the next map (or the next refresh) tries again. */
        dp_warning("enquiries stored without a partner map not matched yet: %s",
                   dp_db_failure_message(self->db));
        self->match_due = false;
        return;
    }
    if (match.matched)
        dp_info("%zu enquiries stored without a partner map matched to partners", match.matched);
    self->match_due = match.taken == MATCH_BATCH;
}

/* ---- the actor ------------------------------------------------------------------------------ */

static void s_on_pipe(partners_t *self)
{
    char *command = zstr_recv(self->pipe);
    if (!command || strcmp(command, "$TERM") == 0)
        self->terminated = true;
    else if (strcmp(command, "INSTALLED") == 0) {
        self->handed = false;
        self->match_due = true;
    } else if (strcmp(command, "REFUSED") == 0) {
        /* The server could not build the map (out of memory): ask again later. */
        self->handed = false;
        self->next_ask = zclock_mono() + self->retry_ms;
    }
    zstr_free(&command);
}

void intake_partners_actor(zsock_t *pipe, void *args)
{
    const dp_config_t *config = args;
    partners_t self = {.pipe = pipe,
                       .registry_endpoint = dp_config_get(config, "DP_REGISTRY_ENDPOINT"),
                       .refresh_ms = (int)dp_config_get_int(config, "DP_INTAKE_PARTNER_REFRESH_MS"),
                       .retry_ms = FIRST_RETRY_MS};
    const char *curve_dir = dp_config_get(config, "DP_CURVE_DIR");
    const char *own_cert = dp_config_get(config, "DP_CURVE_CLIENT_CERT");
    /* The intake asks the registry and follows notify as role "service". */
    int registry_keys = dp_client_keys_load(&self.registry_keys, curve_dir, own_cert, "registry");
    int notify_keys = dp_client_keys_load(&self.notify_keys, curve_dir, own_cert, "notify");
    self.registry_curve = registry_keys == 1;
    self.db = dp_db_new(dp_config_get(config, "DP_DATABASE_URL"), "dp-intake-partners",
                        intake_statements, intake_statement_count);
    const char *pub = dp_config_get(config, "DP_NOTIFY_PUB_ENDPOINT");
    if (*pub) {
        self.events = zsock_new(ZMQ_SUB);
        if (self.events) {
            if (notify_keys == 1)
                dp_client_keys_apply(&self.notify_keys, self.events);
            zsock_set_maxmsgsize(self.events, MAX_REPLY_BYTES);
            zsock_set_subscribe(self.events, "partner.");
            if (zsock_connect(self.events, "%s", pub) != 0)
                zsock_destroy(&self.events);
        }
    }
    /* zactor_new takes the signal; the word after it tells the server
       whether to serve (all of this is quick: nothing here waits). */
    zsock_signal(pipe, 0);
    if (registry_keys < 0 || notify_keys < 0 || !self.db || s_connect(&self) != 0) {
        dp_error("cannot start: bad CURVE keys, out of memory or a bad DP_REGISTRY_ENDPOINT");
        zsock_destroy(&self.registry);
        zstr_send(pipe, "FAILED");
    } else {
        zstr_send(pipe, "READY");
        s_ask(&self, ASK_DOMAINS);
    }
    while (!self.terminated && self.registry) {
        int64_t now = zclock_mono();
        int64_t wake = self.asking != ASK_NONE ? self.deadline : self.next_ask;
        long timeout = self.match_due ? 0 : wake - now < 0 ? 0 : (long)(wake - now);
        /* A map handed over: nothing to do until the server answers. */
        if (self.handed && self.asking == ASK_NONE && !self.match_due)
            timeout = POLL_CAP_MS;
        if (timeout > POLL_CAP_MS)
            timeout = POLL_CAP_MS;
        zmq_pollitem_t items[3] = {{zsock_resolve(pipe), 0, ZMQ_POLLIN, 0},
                                   {zsock_resolve(self.registry), 0, ZMQ_POLLIN, 0}};
        int count = 2;
        if (self.events)
            items[count++] = (zmq_pollitem_t){zsock_resolve(self.events), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(items, count, timeout) < 0 && zmq_errno() != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            s_on_pipe(&self);
            continue;
        }
        if (items[1].revents & ZMQ_POLLIN)
            s_on_registry(&self);
        if (self.events && (items[2].revents & ZMQ_POLLIN))
            s_on_events(&self);
        now = zclock_mono();
        if (self.asking != ASK_NONE && now >= self.deadline) {
            char why[300];
            snprintf(why, sizeof why, "no answer from %s within %d ms", self.registry_endpoint,
                     ATTEMPT_MS);
            s_failed(&self, why);
        } else if (self.asking == ASK_NONE && !self.handed && now >= self.next_ask)
            s_ask(&self, ASK_DOMAINS);
        if (self.match_due)
            s_match_some(&self);
    }
    dp_message_free((ProtobufCMessage **)&self.domains);
    zframe_destroy(&self.domains_body);
    intake_partners_destroy(&self.matcher);
    zsock_destroy(&self.registry);
    zsock_destroy(&self.events);
    dp_db_destroy(&self.db);
    dp_client_keys_free(&self.registry_keys);
    dp_client_keys_free(&self.notify_keys);
    OPENSSL_thread_stop();
}
