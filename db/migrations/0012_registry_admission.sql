-- Admitting a partner from a membership application (an intake enquiry).
--
-- from_enquiry is the intake enquiry the partner was admitted from, NULL
-- for a partner registered any other way. The UNIQUE constraint is what
-- makes an admission happen once: the console may ask again after a lost
-- reply, or two admins may press the button at the same time, and each
-- must end with the one partner. The registry answers a repeated
-- CreatePartnerRequest with the partner already made; the constraint
-- settles the race between two replicas that both found none. There is no
-- foreign key: the enquiry lives in the intake's schema, which the
-- registry neither reads nor depends on.
--
-- The reports' role is not granted the column (0009 grants dp_report
-- named columns only): the figures do not need to know where a partner
-- came from.
ALTER TABLE registry.partner
  ADD COLUMN from_enquiry bigint
    CONSTRAINT partner_from_enquiry_key UNIQUE
    CONSTRAINT partner_from_enquiry_positive CHECK (from_enquiry > 0);
