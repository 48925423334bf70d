-- Double opt-in: reports go only to addresses that confirmed them from a link.
ALTER TABLE email_subscriptions ADD COLUMN confirmed_at timestamptz;
-- Subscriptions taken before double opt-in keep their reports.
UPDATE email_subscriptions SET confirmed_at = created_at WHERE active;

-- One row per confirmation email sent: an address gets at most three a day.
CREATE TABLE email_confirmations (
    id bigserial PRIMARY KEY,
    email text NOT NULL,
    subscription_id uuid NOT NULL REFERENCES email_subscriptions (id) ON DELETE CASCADE,
    sent_at timestamptz NOT NULL
);
CREATE INDEX email_confirmations_email_sent_at ON email_confirmations (email, sent_at);
