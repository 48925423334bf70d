DROP TABLE event_outbox;
ALTER TABLE analyses DROP COLUMN version;
