/* The relay: moves committed outbox rows into the sequence and publishes
   them. It wakes on LISTEN dp_outbox and also polls, so a lost notification
   only delays. Only the holder of the relay lock moves rows; a standby
   keeps trying to take the lock and serves replay meanwhile. */
#include <inttypes.h>
#include <malloc.h>
#include <string.h>
#include <time.h>

#include "dp_codec.h"
#include "dp_log.h"
#include "notify.pb-c.h"
#include "notify_db.h"
#include "notify_service.h"

enum { TRIM_INTERVAL_MS = 5000 };

/* What one relay transaction hands back. */
typedef struct {
    notify_t *notify;   /* the service */
    dp_arena_t *arena;  /* holds the events until they are published */
    Dp__Event **events; /* appended, in seq order */
    size_t count;       /* how many */
    bool standby;       /* another relay holds the lock */
} turn_t;

static dp_txn_outcome_t s_relay_body(dp_db_t *db, void *arg)
{
    turn_t *turn = arg;
    turn->count = 0;
    turn->standby = false;
    int held = notify_db_take_relay_lock(db);
    if (held < 0)
        return DP_TXN_FAILED;
    if (!held) {
        turn->standby = true;
        return DP_TXN_ROLLBACK;
    }
    return notify_db_relay(db, turn->arena, turn->notify->relay_batch, &turn->events,
                           &turn->count) < 0
               ? DP_TXN_FAILED
               : DP_TXN_COMMIT;
}

static void s_publish(notify_t *notify, const Dp__Event *event)
{
    /* While the socket is made again every subscriber is away anyway. */
    if (!notify->pub)
        return;
    size_t size = 0;
    unsigned char *packed = dp_message_pack(&event->base, &size);
    if (!packed)
        return;
    zmsg_t *message = zmsg_new();
    zmsg_addstr(message, event->type);
    zmsg_addmem(message, packed, size);
    /* PUB drops for a subscriber whose queue is full: it repairs by replay. */
    zmsg_send(&message, notify->pub);
    zmsg_destroy(&message);
    free(packed);
}

static void s_heartbeat(notify_t *notify)
{
    int failed = 0;
    uint64_t latest = notify_db_latest_seq(notify->db, &failed);
    if (!failed)
        notify->latest_seq = latest;
    if (!notify->pub)
        return;
    Dp__Heartbeat beat = DP__HEARTBEAT__INIT;
    beat.latest_seq = notify->latest_seq;
    char at[32];
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &utc);
    beat.at = at;
    size_t size = 0;
    unsigned char *packed = dp_message_pack(&beat.base, &size);
    if (!packed)
        return;
    zmsg_t *message = zmsg_new();
    zmsg_addstr(message, "heartbeat");
    zmsg_addmem(message, packed, size);
    zmsg_send(&message, notify->pub);
    zmsg_destroy(&message);
    free(packed);
}

/* Keeps LISTEN in force on the relay's session (a reconnect drops it). */
static void s_listen(notify_t *notify)
{
    unsigned long reconnects = dp_db_reconnect_count(notify->relay_db);
    if (notify->listening && reconnects == notify->listened_at &&
        dp_db_is_connected(notify->relay_db))
        return;
    notify->listening = dp_db_listen(notify->relay_db, notify_listen_sql) == 0;
    notify->listened_at = dp_db_reconnect_count(notify->relay_db);
}

/* Relays until the outboxes are empty (or this process is a standby). */
static void s_relay(notify_t *notify)
{
    s_listen(notify);
    for (int turns = 0; turns < 100; turns++) {
        turn_t turn = {.notify = notify, .arena = dp_arena_new()};
        if (!turn.arena)
            return;
        int outcome = dp_db_transaction(notify->relay_db, s_relay_body, &turn);
        if (outcome == 0) {
            for (size_t i = 0; i < turn.count; i++)
                s_publish(notify, turn.events[i]);
            if (turn.count) {
                notify->latest_seq = turn.events[turn.count - 1]->seq;
                notify->relayed += turn.count;
            }
        }
        if (outcome < 0)
            dp_warning("relay turn failed: %s", dp_db_failure_message(notify->relay_db));
        bool active = !turn.standby;
        if (outcome >= 0 && active != notify->active) {
            notify->active = active;
            dp_info("relay %s", active ? "active (holds the relay lock)"
                                       : "standby (another relay holds the lock)");
        }
        size_t moved = turn.count;
        dp_arena_destroy(&turn.arena);
        if (outcome != 0 || moved == 0)
            return;
    }
}

void notify_relay_tick(void *state)
{
    notify_t *notify = state;
    notify_pub_check(notify);
    int64_t now = zclock_mono();
    if (now >= notify->next_trim) {
        /* Memory a departed subscriber's subscriptions held goes back to
           the system (glibc keeps freed heap otherwise). */
        malloc_trim(0);
        notify->next_trim = now + TRIM_INTERVAL_MS;
    }
    if (now >= notify->next_poll) {
        s_relay(notify);
        notify->next_poll = now + notify->poll_ms;
    }
    if (now >= notify->next_gauges) {
        double outbox = 0, lag = 0, parked = 0;
        if (notify_db_backlog(notify->db, &outbox, &lag, &parked) > 0) {
            dp_metrics_set_gauge(notify->metrics, "dp_outbox_lag",
                                 "Rows committed to the outboxes and not yet in the sequence",
                                 outbox);
            dp_metrics_set_gauge(notify->metrics, "dp_consumer_lag_max",
                                 "Largest latest seq minus acked seq over durable consumers", lag);
            dp_metrics_set_gauge(notify->metrics, "dp_parked_events",
                                 "Events parked for consumers and webhooks", parked);
        }
        dp_metrics_set_gauge(notify->metrics, "dp_latest_seq", "Newest seq of the sequence",
                             (double)notify->latest_seq);
        dp_metrics_set_gauge(notify->metrics, "dp_relay_active",
                             "1 when this process holds the relay lock", notify->active);
        notify->next_gauges = now + 5000;
    }
    if (now >= notify->next_heartbeat) {
        s_heartbeat(notify);
        notify->next_heartbeat = now + 1000;
    }
}

int notify_relay_fd(void *state)
{
    notify_t *notify = state;
    return notify->listening ? dp_db_socket(notify->relay_db) : -1;
}

void notify_relay_wake(void *state)
{
    notify_t *notify = state;
    if (dp_db_drain_notifications(notify->relay_db) < 0)
        notify->listening = false;
    s_relay(notify);
}
