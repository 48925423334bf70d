DROP TABLE progress_activity;
DROP FUNCTION progress_activity_append_only();
DROP TABLE user_progress;
DROP TABLE opportunities;
DROP TABLE analyses;
DROP FUNCTION set_updated_at();
