-- Notifications: the gap-free event sequence, durable consumers, webhooks.

CREATE SCHEMA IF NOT EXISTS notify;
GRANT USAGE ON SCHEMA notify TO dp_notify, dp_report;
GRANT USAGE ON SCHEMA registry, intake TO dp_notify;

-- The sequence. seq is given by the single active relay (advisory lock) as
-- max(seq) + 1, + 2, ... inside the transaction that moves the rows out of
-- the outboxes, so it has no gap and no number is used twice.
CREATE TABLE notify.event (
  seq bigint PRIMARY KEY CHECK (seq >= 1),
  origin text NOT NULL,
  origin_id bigint NOT NULL,
  event_type text NOT NULL,
  aggregate_type text NOT NULL,
  aggregate_id text NOT NULL,
  payload bytea NOT NULL,
  occurred_at timestamptz NOT NULL,
  relayed_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT event_origin_unique UNIQUE (origin, origin_id)
);
CREATE INDEX event_type_seq_idx ON notify.event (event_type text_pattern_ops, seq);

-- The relay moves rows out of the outboxes: it reads and deletes them in the
-- transaction that appends them to notify.event.
GRANT SELECT, DELETE ON registry.outbox, intake.outbox TO dp_notify;

-- Producers wake the relay; the payload names the outbox only.
CREATE OR REPLACE FUNCTION notify.wake_relay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('dp_outbox', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;
CREATE TRIGGER registry_outbox_wake AFTER INSERT ON registry.outbox
  FOR EACH STATEMENT EXECUTE FUNCTION notify.wake_relay();
CREATE TRIGGER intake_outbox_wake AFTER INSERT ON intake.outbox
  FOR EACH STATEMENT EXECUTE FUNCTION notify.wake_relay();
GRANT USAGE ON SCHEMA notify TO dp_registry, dp_intake;
GRANT EXECUTE ON FUNCTION notify.wake_relay() TO dp_registry, dp_intake;

CREATE TABLE notify.consumer (
  name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  topic_prefix text NOT NULL DEFAULT '',
  acked_seq bigint NOT NULL DEFAULT 0,
  delivered_seq bigint NOT NULL DEFAULT 0,
  ack_timeout_ms int NOT NULL CHECK (ack_timeout_ms > 0),
  max_attempts int NOT NULL CHECK (max_attempts > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Events handed to a consumer and not yet acknowledged, or parked.
CREATE TABLE notify.delivery (
  consumer text NOT NULL REFERENCES notify.consumer (name) ON DELETE CASCADE,
  seq bigint NOT NULL REFERENCES notify.event (seq),
  attempts int NOT NULL,
  delivered_at timestamptz NOT NULL,
  parked_at timestamptz,
  PRIMARY KEY (consumer, seq)
);
CREATE INDEX delivery_due_idx ON notify.delivery (consumer, delivered_at) WHERE parked_at IS NULL;

CREATE TABLE notify.webhook (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  url text NOT NULL,
  topic_prefix text NOT NULL DEFAULT '',
  secret text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  removed_at timestamptz
);

-- One row per event per webhook, made by the relay in the same transaction
-- that appends the event.
CREATE TABLE notify.webhook_delivery (
  webhook_id bigint NOT NULL REFERENCES notify.webhook (id),
  seq bigint NOT NULL REFERENCES notify.event (seq),
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'parked')),
  last_error text NOT NULL DEFAULT '',
  finished_at timestamptz,
  PRIMARY KEY (webhook_id, seq)
);
CREATE INDEX webhook_delivery_due_idx ON notify.webhook_delivery (next_attempt_at)
  WHERE state = 'pending';

GRANT SELECT, INSERT ON notify.event TO dp_notify;
GRANT SELECT, INSERT, UPDATE, DELETE ON notify.consumer, notify.delivery TO dp_notify;
GRANT SELECT, INSERT, UPDATE ON notify.webhook, notify.webhook_delivery TO dp_notify;
GRANT SELECT (seq, event_type, aggregate_type, aggregate_id, occurred_at, relayed_at)
  ON notify.event TO dp_report;
