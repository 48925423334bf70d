-- Report deliveries: one row per (subscription, period), claimed before sending, so a report is
-- never sent twice for a period whatever the number of schedulers; every attempt is recorded.

CREATE TABLE email_deliveries (
    id              uuid PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES email_subscriptions (id) ON DELETE CASCADE,
    -- 'weekly:2026-11-16' or 'monthly:2026-11'
    period_key      text NOT NULL,
    status          text NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    attempts        smallint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    CONSTRAINT email_deliveries_subscription_period_key UNIQUE (subscription_id, period_key)
);
CREATE INDEX email_deliveries_status_idx ON email_deliveries (status, created_at);

CREATE TABLE email_delivery_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  uuid NOT NULL REFERENCES email_deliveries (id) ON DELETE CASCADE,
    attempt      smallint NOT NULL CHECK (attempt >= 1),
    outcome      text NOT NULL CHECK (outcome IN ('sent', 'failed')),
    error        text,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_delivery_attempts_delivery_idx ON email_delivery_attempts (delivery_id);
