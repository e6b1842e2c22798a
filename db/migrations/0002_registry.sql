-- The partner registry. Nothing is ever deleted from partner; a partner
-- withdraws. Names are kept over time in partner_name.

CREATE TABLE registry.area (
  slug text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  label text NOT NULL CHECK (length(label) BETWEEN 1 AND 300),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE registry.form (
  slug text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  label text NOT NULL CHECK (length(label) BETWEEN 1 AND 300),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE registry.partner (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  slug text NOT NULL CONSTRAINT partner_slug_key UNIQUE
    CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  kind text NOT NULL CHECK (kind IN ('company', 'association')),
  website text NOT NULL DEFAULT '',
  joined_on date NOT NULL,
  joined_precision text NOT NULL CHECK (joined_precision IN ('day', 'month', 'year')),
  instrument text NOT NULL DEFAULT 'exchange of letters',
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
  withdrawn_on date,
  note text NOT NULL DEFAULT '',
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT partner_withdrawn_consistent CHECK ((status = 'withdrawn') = (withdrawn_on IS NOT NULL)),
  CONSTRAINT partner_withdrawn_after_joining CHECK (withdrawn_on IS NULL OR withdrawn_on >= joined_on)
);
CREATE INDEX partner_joined_on_idx ON registry.partner (joined_on);

-- Every name a partner has had; position 1 is the first. valid_from is NULL
-- when the date of a change is not known.
CREATE TABLE registry.partner_name (
  partner_id bigint NOT NULL REFERENCES registry.partner (id),
  position int NOT NULL CHECK (position >= 1),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  valid_from date,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (partner_id, position)
);

-- An e-mail domain belongs to at most one partner.
CREATE TABLE registry.partner_domain (
  domain text CONSTRAINT partner_domain_pkey PRIMARY KEY,
  partner_id bigint NOT NULL REFERENCES registry.partner (id)
);
CREATE INDEX partner_domain_partner_idx ON registry.partner_domain (partner_id);

CREATE TABLE registry.partner_area (
  partner_id bigint NOT NULL REFERENCES registry.partner (id),
  area_slug text NOT NULL REFERENCES registry.area (slug),
  PRIMARY KEY (partner_id, area_slug)
);
CREATE INDEX partner_area_area_idx ON registry.partner_area (area_slug);

-- Contact persons: personal data, kept only here.
CREATE TABLE registry.contact (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partner_id bigint NOT NULL REFERENCES registry.partner (id),
  name text NOT NULL,
  role text NOT NULL DEFAULT '',
  email text NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_partner_idx ON registry.contact (partner_id);
CREATE INDEX contact_email_idx ON registry.contact (lower(email));

CREATE TABLE registry.engagement (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  partner_id bigint NOT NULL REFERENCES registry.partner (id),
  form_slug text NOT NULL REFERENCES registry.form (slug),
  area_slug text NOT NULL REFERENCES registry.area (slug),
  title text NOT NULL,
  starts_on date NOT NULL,
  ends_on date,
  note text NOT NULL DEFAULT '',
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT engagement_dates_ordered CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX engagement_partner_idx ON registry.engagement (partner_id, id);

-- Events written in the same transaction as the change they describe.
-- The notifications service relays them into the public event sequence.
CREATE TABLE registry.outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_type text NOT NULL,
  aggregate_type text NOT NULL,
  aggregate_id text NOT NULL,
  payload bytea NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON registry.partner, registry.partner_name, registry.area,
  registry.form, registry.engagement TO dp_registry;
GRANT SELECT, INSERT, DELETE ON registry.partner_domain, registry.partner_area TO dp_registry;
GRANT SELECT, INSERT, UPDATE, DELETE ON registry.contact TO dp_registry;
GRANT INSERT ON registry.outbox TO dp_registry;

-- Reports read everything but the personal data of contacts.
GRANT SELECT ON registry.partner, registry.partner_name, registry.partner_domain,
  registry.partner_area, registry.area, registry.form, registry.engagement TO dp_report;
