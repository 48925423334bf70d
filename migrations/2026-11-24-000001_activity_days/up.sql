-- What a dashboard needs of the activity log, kept as the log grows: the days with activity, one
-- row per analysis and day, and the first implementation on the analysis itself. Reading them
-- used to aggregate the whole log of the analysis on every uncached read and every change
-- (1.5 ms per change once an analysis had a thousand entries: bench/sql.sh, mutations).
CREATE TABLE activity_days (
    analysis_id uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
    day         date NOT NULL,
    PRIMARY KEY (analysis_id, day)
);

ALTER TABLE analyses ADD COLUMN first_implemented_at timestamptz;

-- Kept by the database for every writer of the log (the service, the seed, a hand fix).
CREATE FUNCTION progress_activity_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.activity_day IS NOT NULL THEN
        INSERT INTO activity_days (analysis_id, day) VALUES (NEW.analysis_id, NEW.activity_day)
            ON CONFLICT DO NOTHING;
    END IF;
    IF NEW.to_status = 'IMPLEMENTED' THEN
        UPDATE analyses SET first_implemented_at = NEW.occurred_at
         WHERE id = NEW.analysis_id
           AND (first_implemented_at IS NULL OR first_implemented_at > NEW.occurred_at);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER progress_activity_summarise AFTER INSERT ON progress_activity
    FOR EACH ROW EXECUTE FUNCTION progress_activity_summarise();

INSERT INTO activity_days (analysis_id, day)
SELECT DISTINCT analysis_id, activity_day FROM progress_activity WHERE activity_day IS NOT NULL;

UPDATE analyses a SET first_implemented_at = f.first
  FROM (SELECT analysis_id, min(occurred_at) AS first FROM progress_activity
         WHERE to_status = 'IMPLEMENTED' GROUP BY analysis_id) f
 WHERE a.id = f.analysis_id;
