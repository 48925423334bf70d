DROP TABLE email_delivery_attempts;
DROP TABLE email_deliveries;
