-- Badges are data: the catalog (synced from badges.toml at migrate time), its version history,
-- awards, and the last computed progress towards each locked badge.

CREATE TABLE badge_metadata (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug            text NOT NULL CHECK (slug ~ '^[a-z][a-z0-9_]*$'),
    name            text NOT NULL CHECK (length(name) > 0),
    description     text NOT NULL,
    icon            text,
    rarity          text NOT NULL CHECK (rarity IN ('common', 'rare', 'epic', 'legendary')),
    points          integer NOT NULL CHECK (points >= 0),
    category        text NOT NULL CHECK (category IN ('progress', 'consistency', 'social', 'milestone')),
    unlock_criteria jsonb NOT NULL CHECK (jsonb_typeof(unlock_criteria) = 'object'),
    display_order   integer NOT NULL DEFAULT 0,
    active          boolean NOT NULL DEFAULT true,
    version         integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT badge_metadata_slug_key UNIQUE (slug)
);
-- the active catalog in display order
CREATE INDEX badge_metadata_active_display_order_idx ON badge_metadata (display_order) WHERE active;
CREATE TRIGGER badge_metadata_set_updated_at BEFORE UPDATE ON badge_metadata
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE badge_versions (
    badge_id   uuid NOT NULL REFERENCES badge_metadata (id) ON DELETE CASCADE,
    version    integer NOT NULL CHECK (version >= 1),
    -- the whole definition as it stood at that version
    definition jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (badge_id, version)
);

CREATE TABLE user_badges (
    id             uuid PRIMARY KEY,
    analysis_id    uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
    badge_id       uuid NOT NULL REFERENCES badge_metadata (id),
    version_earned integer NOT NULL,
    earned_at      timestamptz NOT NULL,
    -- one award per (analysis, badge), whatever the concurrency; also the per-analysis access path
    CONSTRAINT user_badges_analysis_badge_key UNIQUE (analysis_id, badge_id),
    FOREIGN KEY (badge_id, version_earned) REFERENCES badge_versions (badge_id, version)
);
-- replay since an instant, and platform KPIs per period
CREATE INDEX user_badges_earned_at_idx ON user_badges (earned_at);
CREATE INDEX user_badges_badge_id_idx ON user_badges (badge_id);

CREATE TABLE achievement_progress (
    analysis_id         uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
    badge_id            uuid NOT NULL REFERENCES badge_metadata (id) ON DELETE CASCADE,
    progress_percentage smallint NOT NULL CHECK (progress_percentage BETWEEN 0 AND 100),
    details             jsonb NOT NULL DEFAULT '{}',
    next_milestone      text,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (analysis_id, badge_id)
);
CREATE INDEX achievement_progress_badge_id_idx ON achievement_progress (badge_id);
CREATE TRIGGER achievement_progress_set_updated_at BEFORE UPDATE ON achievement_progress
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
