-- The intake without waiting on the registry, and events without names.
--
-- partner_pending: the enquiry was stored while the intake had no partner
-- map yet (the registry was not reachable). The intake's partner actor
-- matches these as soon as a map arrives, then clears the flag; the partial
-- index keeps that look-up small however large the table grows.
ALTER TABLE intake.enquiry ADD COLUMN partner_pending boolean NOT NULL DEFAULT false;
CREATE INDEX enquiry_partner_pending_idx ON intake.enquiry (id) WHERE partner_pending;

-- Staff members named as assignees, each with an opaque id: events carry
-- the id, never the name (event consumers are other systems, and the
-- stream is kept for replay). GetEnquiry still shows the name to staff.
CREATE TABLE intake.staff (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE intake.enquiry ADD COLUMN assignee_id bigint REFERENCES intake.staff (id);

-- Assignees named before this migration get their ids now.
INSERT INTO intake.staff (name)
  SELECT DISTINCT assignee FROM intake.enquiry WHERE assignee <> '' ORDER BY assignee;
UPDATE intake.enquiry e SET assignee_id = s.id FROM intake.staff s
  WHERE e.assignee <> '' AND s.name = e.assignee;

GRANT SELECT, INSERT ON intake.staff TO dp_intake;
