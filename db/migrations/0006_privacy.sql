-- Data protection: pseudonymisation keys, erasure tombstones, audit trails.
-- email_key is a keyed hash (HMAC-SHA256 with the services' DP_PRIVACY_KEY)
-- of the lower-cased address: erasure, export and tombstones find a
-- person's rows by it, and a tombstone holds only the hash, never the address.

ALTER TABLE intake.enquiry ADD COLUMN email_key text;
ALTER TABLE intake.enquiry ADD COLUMN erased_at timestamptz;
ALTER TABLE intake.enquiry ADD COLUMN erasure_reason text NOT NULL DEFAULT ''
  CHECK (erasure_reason IN ('', 'retention', 'request'));
CREATE INDEX enquiry_email_key_idx ON intake.enquiry (email_key);
CREATE INDEX enquiry_retention_idx ON intake.enquiry (resolved_at)
  WHERE erased_at IS NULL AND status IN ('closed', 'rejected');

ALTER TABLE registry.contact ADD COLUMN email_key text;
CREATE INDEX contact_email_key_idx ON registry.contact (email_key);

CREATE TABLE intake.erasure_tombstone (
  email_key text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE registry.erasure_tombstone (
  email_key text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Every read of personal data and every erasure. Append-only: the services'
-- roles may insert and read, never change or delete; a trigger refuses it
-- even to an owner who forgets.
CREATE TABLE intake.audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  subject_key text NOT NULL DEFAULT '',
  detail text NOT NULL DEFAULT ''
);
CREATE INDEX intake_audit_subject_idx ON intake.audit_log (subject_key, id);
CREATE TABLE registry.audit_log (LIKE intake.audit_log INCLUDING ALL);

CREATE OR REPLACE FUNCTION dp_meta.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER intake_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON intake.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION dp_meta.refuse_change();
CREATE TRIGGER registry_audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON registry.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION dp_meta.refuse_change();
GRANT USAGE ON SCHEMA dp_meta TO dp_registry, dp_intake;
GRANT EXECUTE ON FUNCTION dp_meta.refuse_change() TO dp_registry, dp_intake;

GRANT SELECT, INSERT ON intake.erasure_tombstone, intake.audit_log TO dp_intake;
GRANT SELECT, INSERT ON registry.erasure_tombstone, registry.audit_log TO dp_registry;
GRANT UPDATE ON intake.enquiry_note, intake.enquiry_transition TO dp_intake;
GRANT SELECT (erased_at, erasure_reason) ON intake.enquiry TO dp_report;

-- Settings of the reporting role, measured with bench/run-report: JIT
-- compilation cost more than it saved on every report; generic plans of the
-- per-period queries compared every bucket with every row; sorts for the
-- percentiles need more than the default memory. Roles are cluster-wide and
-- several databases may be migrated at once, hence the guard (see 0001).
DO $$
DECLARE
  setting text;
BEGIN
  FOREACH setting IN ARRAY ARRAY['jit=off', 'plan_cache_mode=force_custom_plan', 'work_mem=32MB']
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
                   WHERE r.rolname = 'dp_report' AND s.setdatabase = 0
                     AND setting = ANY (s.setconfig)) THEN
      BEGIN
        EXECUTE format('ALTER ROLE dp_report SET %s TO %L', split_part(setting, '=', 1),
                       split_part(setting, '=', 2));
      EXCEPTION WHEN OTHERS THEN
        IF SQLSTATE <> 'XX000' THEN
          RAISE;
        END IF;
      END;
    END IF;
  END LOOP;
END
$$;
