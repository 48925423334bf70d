-- A badge's name and description in the languages other than the default (French), as the
-- catalog file gives them: {"en": {"name": "...", "description": "..."}}.
ALTER TABLE badge_metadata
    ADD COLUMN translations jsonb NOT NULL DEFAULT '{}'::jsonb
        CHECK (jsonb_typeof(translations) = 'object');
