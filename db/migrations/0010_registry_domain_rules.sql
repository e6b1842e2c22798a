-- Two rules of the registry, written once and used by the registry's own
-- queries and by the reports (which used to spell them out again):
--   - the name of a partner in force on a date: the latest name that had
--     started by then; a name whose start is not known counts from the day
--     it was recorded; the first name counts from the start. A NULL date
--     means now (the latest name);
--   - a partner active (a member) on a date: joined by then and not
--     withdrawn by then.
-- Both are SQL functions the planner inlines, so that the queries that
-- call them keep the plans they had with the rule written out: the name
-- as a set-returning function of one row (inlined into the scalar
-- subquery that reads it), activity as a boolean expression (inlined into
-- the WHERE clause, where the index on joined_on still serves).
-- registry.partner_name_on reads recorded_at as a date in the session's
-- time zone (the services set UTC), hence STABLE and not IMMUTABLE.

CREATE FUNCTION registry.partner_name_on(bigint, date)
  RETURNS TABLE (name text)
  LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT n.name FROM registry.partner_name n
  WHERE n.partner_id = $1
    AND (n.position = 1 OR COALESCE(n.valid_from, n.recorded_at::date) <= COALESCE($2, 'infinity'::date))
  ORDER BY n.position DESC LIMIT 1
$$;

CREATE FUNCTION registry.partner_active_on(joined_on date, withdrawn_on date, on_date date)
  RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT $1 <= $3 AND ($2 IS NULL OR $2 > $3)
$$;

COMMENT ON FUNCTION registry.partner_name_on(bigint, date) IS
  'The name of partner $1 in force on $2 (NULL: now): SELECT name FROM registry.partner_name_on(id, date)';
COMMENT ON FUNCTION registry.partner_active_on(date, date, date) IS
  'True when a partner with these joining and withdrawal dates is a member on on_date';

-- Functions are executable by PUBLIC unless revoked: only the registry and
-- the reports read partners.
REVOKE ALL ON FUNCTION registry.partner_name_on(bigint, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION registry.partner_active_on(date, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION registry.partner_name_on(bigint, date) TO dp_registry, dp_report;
GRANT EXECUTE ON FUNCTION registry.partner_active_on(date, date, date) TO dp_registry, dp_report;
