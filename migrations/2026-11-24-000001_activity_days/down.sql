DROP TRIGGER progress_activity_summarise ON progress_activity;
DROP FUNCTION progress_activity_summarise();
ALTER TABLE analyses DROP COLUMN first_implemented_at;
DROP TABLE activity_days;
