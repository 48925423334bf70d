DROP TABLE achievement_progress;
DROP TABLE user_badges;
DROP TABLE badge_versions;
DROP TABLE badge_metadata;
