DROP TABLE hourly_rates;
DROP INDEX progress_activity_analysis_id_idx;

DROP TRIGGER progress_activity_local_day ON progress_activity;
DROP FUNCTION progress_activity_local_day();

CREATE OR REPLACE FUNCTION progress_activity_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'progress_activity is append-only';
END
$$;

-- the UTC day again, generated as before
ALTER TABLE progress_activity DROP COLUMN activity_day;
ALTER TABLE progress_activity
    ADD COLUMN activity_day date GENERATED ALWAYS AS ((occurred_at AT TIME ZONE 'UTC')::date) STORED;
CREATE INDEX progress_activity_analysis_day_idx ON progress_activity (analysis_id, activity_day);
DELETE FROM activity_days;
INSERT INTO activity_days (analysis_id, day)
SELECT DISTINCT analysis_id, activity_day FROM progress_activity WHERE activity_day IS NOT NULL;

ALTER TABLE progress_activity DROP COLUMN actor;
ALTER TABLE analyses DROP COLUMN time_zone;
