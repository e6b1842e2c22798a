-- Enquiry intake: enquiries, their workflow history, notes, triage rules and
-- the kinds of enquiry (data, extensible). An enquiry is never deleted.

CREATE SCHEMA IF NOT EXISTS intake;
GRANT USAGE ON SCHEMA intake TO dp_intake, dp_report;

CREATE TABLE intake.enquiry_kind (
  slug text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  label text NOT NULL CHECK (length(label) BETWEEN 1 AND 300),
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO intake.enquiry_kind (slug, label) VALUES
  ('membership-application', 'Membership application'),
  ('cooperation-proposal', 'Cooperation proposal'),
  ('event-participation', 'Event participation'),
  ('information-request', 'Information request'),
  ('media', 'Media'),
  ('other', 'Other');

CREATE TABLE intake.enquiry (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source text NOT NULL,
  idempotency_key text NOT NULL,
  -- SHA-1 of the submission's fields: the same key with other content is a conflict.
  content_hash text NOT NULL,
  sender_name text NOT NULL,
  email text NOT NULL,
  organisation text NOT NULL DEFAULT '',
  country text NOT NULL DEFAULT '',
  kind text NOT NULL REFERENCES intake.enquiry_kind (slug),
  subject text NOT NULL,
  -- The subject lower-cased, without "re:"/"fwd:" prefixes and extra spaces.
  subject_key text NOT NULL,
  body text NOT NULL,
  language text NOT NULL DEFAULT '',
  areas text[] NOT NULL DEFAULT '{}',
  received_at timestamptz NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL CHECK (status IN ('received', 'triaged', 'assigned', 'answered',
                                         'closed', 'rejected', 'quarantined')),
  -- Triage at intake. partner_id is the registry's id (another service: no foreign key).
  partner_id bigint,
  partner_slug text NOT NULL DEFAULT '',
  suggested_areas text[] NOT NULL DEFAULT '{}',
  possible_duplicate_of bigint REFERENCES intake.enquiry (id),
  quarantine_reason text NOT NULL DEFAULT '',
  -- Workflow
  assignee text NOT NULL DEFAULT '',
  due_on date NOT NULL,
  first_response_at timestamptz,
  resolved_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT enquiry_source_key UNIQUE (source, idempotency_key)
);
CREATE INDEX enquiry_status_idx ON intake.enquiry (status, id);
CREATE INDEX enquiry_received_idx ON intake.enquiry (received_at);
CREATE INDEX enquiry_sender_subject_idx ON intake.enquiry (lower(email), subject_key, received_at);
CREATE INDEX enquiry_partner_idx ON intake.enquiry (partner_slug, id);

CREATE TABLE intake.enquiry_transition (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  enquiry_id bigint NOT NULL REFERENCES intake.enquiry (id),
  from_status text,
  to_status text NOT NULL,
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  note text NOT NULL DEFAULT ''
);
CREATE INDEX enquiry_transition_enquiry_idx ON intake.enquiry_transition (enquiry_id, id);

CREATE TABLE intake.enquiry_note (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  enquiry_id bigint NOT NULL REFERENCES intake.enquiry (id),
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  text text NOT NULL
);
CREATE INDEX enquiry_note_enquiry_idx ON intake.enquiry_note (enquiry_id, id);

-- Keyword rules that suggest cooperation areas; the keyword is matched in
-- the lower-cased subject and body.
CREATE TABLE intake.triage_rule (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  keyword text NOT NULL CHECK (keyword = lower(keyword) AND length(keyword) BETWEEN 2 AND 100),
  area_slug text NOT NULL CHECK (area_slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT triage_rule_unique UNIQUE (keyword, area_slug)
);
INSERT INTO intake.triage_rule (keyword, area_slug) VALUES
  ('bioethic', 'bioethics'),
  ('child', 'child-protection'),
  ('grooming', 'child-protection'),
  ('cybercrime', 'cybercrime'),
  ('budapest convention', 'cybercrime'),
  ('terroris', 'cybercrime'),
  ('data protection', 'data-protection'),
  ('privacy', 'data-protection'),
  ('convention 108', 'data-protection'),
  ('artificial intelligence', 'ai'),
  ('machine learning', 'ai'),
  ('digital literacy', 'digital-literacy'),
  ('media literacy', 'digital-literacy'),
  ('cultural heritage', 'cultural-heritage'),
  ('disinformation', 'abusive-expression'),
  ('hate speech', 'abusive-expression'),
  ('election', 'elections'),
  ('e-voting', 'elections'),
  ('money laundering', 'money-laundering'),
  ('corruption', 'money-laundering');

CREATE TABLE intake.outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_type text NOT NULL,
  aggregate_type text NOT NULL,
  aggregate_id text NOT NULL,
  payload bytea NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON intake.enquiry TO dp_intake;
GRANT SELECT, INSERT ON intake.enquiry_transition, intake.enquiry_note, intake.enquiry_kind
  TO dp_intake;
GRANT SELECT, INSERT, DELETE ON intake.triage_rule TO dp_intake;
GRANT INSERT ON intake.outbox TO dp_intake;

-- Reports count enquiries; they never see who wrote or what was written.
GRANT SELECT (id, source, kind, country, language, areas, received_at, stored_at, status,
              partner_id, partner_slug, suggested_areas, possible_duplicate_of,
              quarantine_reason, assignee, due_on, first_response_at, resolved_at)
  ON intake.enquiry TO dp_report;
GRANT SELECT (id, enquiry_id, from_status, to_status, actor, at) ON intake.enquiry_transition
  TO dp_report;
GRANT SELECT ON intake.enquiry_kind, intake.triage_rule TO dp_report;
