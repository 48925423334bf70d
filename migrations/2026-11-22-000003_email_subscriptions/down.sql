DROP TABLE email_subscriptions;
