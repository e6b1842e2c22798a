-- Durable consumers belong to the key that created them: only that key
-- (and staff) may fetch, acknowledge, replay or delete them. owner is the
-- name in the creating client's certificate; '' when the consumer was made
-- without CURVE (development) or before this migration, and then only staff
-- may manage it while CURVE is on (recreate it with its consumer's key, or
-- set owner here, to hand it over).
ALTER TABLE notify.consumer ADD COLUMN owner text NOT NULL DEFAULT ''
  CHECK (length(owner) <= 200);
