-- The staff console's own schema: staff accounts, sessions and login
-- attempts. The console reads nothing of the other services' tables: it
-- asks them over ZeroMQ, as a front end naming the person.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dp_console') THEN
    BEGIN
      CREATE ROLE dp_console LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS console;
GRANT USAGE ON SCHEMA console TO dp_console;

CREATE TABLE console.staff (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  login text NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9._-]{2,64}$'),
  -- The person's name, as the services record who did what: one account each.
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  role text NOT NULL CHECK (role IN ('agent', 'admin')),
  -- Argon2id in libsodium's string form ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
  password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz,
  locked_until timestamptz
);

-- Only the SHA-256 of a session id is kept: a copy of this table opens no
-- session. (The CSRF token of a session is derived from its id, so it is
-- not kept at all.)
CREATE TABLE console.session (
  id_hash bytea PRIMARY KEY CHECK (length(id_hash) = 32),
  staff_id bigint NOT NULL REFERENCES console.staff (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  address text NOT NULL DEFAULT ''
);
CREATE INDEX session_staff_idx ON console.session (staff_id);
CREATE INDEX session_last_seen_idx ON console.session (last_seen_at);

-- Failed logins, by account login (as typed, lower-cased) and by address,
-- for throttling; old rows are deleted as the console goes.
CREATE TABLE console.login_failure (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  login text NOT NULL,
  address text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failure_login_idx ON console.login_failure (login, at);
CREATE INDEX login_failure_address_idx ON console.login_failure (address, at);

-- What happened to accounts and logins: who, what, when (never a password).
CREATE TABLE console.audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  target text NOT NULL DEFAULT '',
  address text NOT NULL DEFAULT '',
  detail text NOT NULL DEFAULT ''
);
CREATE INDEX audit_at_idx ON console.audit (at);

GRANT SELECT, INSERT, UPDATE ON console.staff TO dp_console;
GRANT SELECT, INSERT, UPDATE, DELETE ON console.session TO dp_console;
GRANT SELECT, INSERT, DELETE ON console.login_failure TO dp_console;
GRANT SELECT, INSERT ON console.audit TO dp_console;

-- The migration tool may set the console role's password like the others'.
CREATE OR REPLACE FUNCTION dp_meta.set_login_password(role_name text, new_password text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF role_name NOT IN ('dp_registry', 'dp_intake', 'dp_notify', 'dp_report', 'dp_console') THEN
    RAISE EXCEPTION 'not a service role: %', role_name USING ERRCODE = '22023';
  END IF;
  EXECUTE format('ALTER ROLE %I PASSWORD %L', role_name, new_password);
END
$$;
REVOKE ALL ON FUNCTION dp_meta.set_login_password(text, text) FROM PUBLIC;
