-- Least privilege for the reporting role, finished. Its figures are served
-- without authentication on the dashboard, so it reads neither who works
-- on an enquiry nor what anyone wrote:
--   - intake.enquiry.assignee and intake.enquiry_transition.actor are staff
--     names (intake.staff, 0007, is not granted either);
--   - registry.partner.note and registry.engagement.note are free text
--     written by staff; the two tables were granted whole (0002), so the
--     table grant becomes a grant of every other column.
-- Contact persons and enquiry notes were never granted to dp_report
-- (0002, 0003); tests/test_privileges.c and test_security_privileges.c
-- check all of it. Revoking a table privilege also revokes it on every
-- column, hence the order.
REVOKE SELECT (assignee) ON intake.enquiry FROM dp_report;
REVOKE SELECT (actor) ON intake.enquiry_transition FROM dp_report;
REVOKE SELECT ON registry.partner, registry.engagement FROM dp_report;
GRANT SELECT (id, slug, kind, website, joined_on, joined_precision, instrument, status,
              withdrawn_on, version, created_at, updated_at)
  ON registry.partner TO dp_report;
GRANT SELECT (id, partner_id, form_slug, area_slug, title, starts_on, ends_on, recorded_at)
  ON registry.engagement TO dp_report;
