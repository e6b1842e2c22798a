-- One login role per service, one schema per service.
-- Roles are cluster-wide: several databases of one cluster may be migrated at
-- once, so a role made meanwhile by another migration is not an error.
DO $$
DECLARE
  role_name text;
BEGIN
  FOREACH role_name IN ARRAY ARRAY['dp_registry', 'dp_intake', 'dp_notify', 'dp_report'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', role_name);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
  -- The reporting role reads only, even if a grant were added by mistake.
  IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
                 WHERE r.rolname = 'dp_report' AND s.setdatabase = 0
                   AND 'default_transaction_read_only=on' = ANY (s.setconfig)) THEN
    BEGIN
      ALTER ROLE dp_report SET default_transaction_read_only = on;
    EXCEPTION WHEN OTHERS THEN
      -- Another migration set it at the same moment ("tuple concurrently updated").
      IF SQLSTATE <> 'XX000' THEN
        RAISE;
      END IF;
    END;
  END IF;
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA IF NOT EXISTS registry;
GRANT USAGE ON SCHEMA registry TO dp_registry, dp_report;

-- Sets a service role's password without building SQL text in the client.
CREATE OR REPLACE FUNCTION dp_meta.set_login_password(role_name text, new_password text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF role_name NOT IN ('dp_registry', 'dp_intake', 'dp_notify', 'dp_report') THEN
    RAISE EXCEPTION 'not a service role: %', role_name USING ERRCODE = '22023';
  END IF;
  EXECUTE format('ALTER ROLE %I PASSWORD %L', role_name, new_password);
END
$$;
REVOKE ALL ON FUNCTION dp_meta.set_login_password(text, text) FROM PUBLIC;
