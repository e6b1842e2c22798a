-- Indexes for the reports (services/report/report_db.c), measured with
-- bench/run-report on a million enquiries over three years and 10,000
-- engagements. Plain CREATE INDEX (a migration is one transaction, so not
-- CONCURRENTLY): on a large intake.enquiry it holds off writes while it builds.

-- The per-week and per-month tables of the enquiry report (received, from
-- partners, quarantined; first-response times) read every enquiry of the
-- period: with these columns in the index they are index-only scans of this
-- narrow index instead of reads of the wide rows (subject, body, addresses).
-- It also keeps the generic plan PostgreSQL may choose for them after five
-- executions from costing seconds. Deliberately narrow: with kind, source
-- and resolved_at included too, the breakdown and response-time queries
-- (two periods joined by OR) would scan the whole index rather than the two
-- periods, which is slower; include them once those queries read the two
-- periods as two ranges.
CREATE INDEX enquiry_report_idx ON intake.enquiry (received_at)
  INCLUDE (id, status, partner_id, first_response_at);

-- The cooperation report counts engagements per partner and area, and per
-- area (with the partners engaged), that started in a period: index-only.
CREATE INDEX engagement_area_partner_idx ON registry.engagement (area_slug, partner_id, starts_on);
