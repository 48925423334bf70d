-- Report subscriptions: one per (analysis, email); the API comes with the reports work.
CREATE TABLE email_subscriptions (
    id           uuid PRIMARY KEY,
    analysis_id  uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
    -- stored normalised (trimmed, lower case)
    email        text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
    frequency    text NOT NULL CHECK (frequency IN ('weekly', 'monthly')),
    hourly_rate  double precision CHECK (hourly_rate BETWEEN 20 AND 500),
    language     text NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'en')),
    active       boolean NOT NULL DEFAULT true,
    last_sent_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT email_subscriptions_analysis_email_key UNIQUE (analysis_id, email)
);
-- the scheduler's due selection
CREATE INDEX email_subscriptions_due_idx ON email_subscriptions (frequency, last_sent_at) WHERE active;
CREATE TRIGGER email_subscriptions_set_updated_at BEFORE UPDATE ON email_subscriptions
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
