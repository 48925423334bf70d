ALTER TABLE badge_metadata DROP COLUMN translations;
