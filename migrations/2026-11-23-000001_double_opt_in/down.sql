DROP TABLE email_confirmations;
ALTER TABLE email_subscriptions DROP COLUMN confirmed_at;
