-- Local days: every analysis has an IANA time zone, and the activity log's day is the local day in
-- it (it was the UTC day). Who made a change is logged (the token's subject), and so is every
-- hourly rate an analysis had, so that history can show money saved as it was known then.
ALTER TABLE analyses
    ADD COLUMN time_zone text NOT NULL DEFAULT 'America/Toronto'
        CHECK (length(time_zone) BETWEEN 1 AND 64);

ALTER TABLE progress_activity
    ADD COLUMN actor text CHECK (length(actor) BETWEEN 1 AND 255);

-- the day is the analysis' local day, set on insert, and set again when the zone changes
ALTER TABLE progress_activity ALTER COLUMN activity_day DROP EXPRESSION;

CREATE FUNCTION progress_activity_local_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.activity_day := (NEW.occurred_at AT TIME ZONE
        (SELECT time_zone FROM analyses WHERE id = NEW.analysis_id))::date;
    RETURN NEW;
END $$;

CREATE TRIGGER progress_activity_local_day BEFORE INSERT ON progress_activity
    FOR EACH ROW EXECUTE FUNCTION progress_activity_local_day();

-- still append-only, but for the local day, which follows the analysis' time zone
CREATE OR REPLACE FUNCTION progress_activity_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.id, NEW.analysis_id, NEW.opportunity_id, NEW.kind, NEW.from_status, NEW.to_status,
            NEW.note, NEW.effort_hours, NEW.occurred_at, NEW.actor)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.analysis_id, OLD.opportunity_id, OLD.kind, OLD.from_status, OLD.to_status,
            OLD.note, OLD.effort_hours, OLD.occurred_at, OLD.actor) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'progress_activity is append-only';
END
$$;

UPDATE progress_activity SET activity_day = (occurred_at AT TIME ZONE 'America/Toronto')::date;
DELETE FROM activity_days;
INSERT INTO activity_days (analysis_id, day)
SELECT DISTINCT analysis_id, activity_day FROM progress_activity WHERE activity_day IS NOT NULL;

-- the activity connection pages by id, newest first
CREATE INDEX progress_activity_analysis_id_idx ON progress_activity (analysis_id, id);

-- every hourly rate an analysis had, from when it was set
CREATE TABLE hourly_rates (
    analysis_id uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
    set_at      timestamptz NOT NULL,
    rate        double precision NOT NULL CHECK (rate BETWEEN 20 AND 500),
    PRIMARY KEY (analysis_id, set_at)
);
-- a rate known before this table: known since the analysis began (nothing says otherwise)
INSERT INTO hourly_rates (analysis_id, set_at, rate)
SELECT id, created_at, hourly_rate FROM analyses WHERE hourly_rate IS NOT NULL;
