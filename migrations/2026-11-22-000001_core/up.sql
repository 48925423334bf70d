-- Core domain: analyses, their opportunities, progress on each, and the append-only activity log.

CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TABLE analyses (
    id             uuid PRIMARY KEY,
    url            text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    -- lower case, no scheme, no `www.`, no trailing slash: the de-duplication key
    normalized_url text NOT NULL CHECK (length(normalized_url) BETWEEN 1 AND 2048),
    company_name   text,
    sector         text,
    estimated_size text,
    tier           text,
    hourly_rate    double precision CHECK (hourly_rate BETWEEN 20 AND 500),
    currency       text NOT NULL DEFAULT 'CAD' CHECK (currency ~ '^[A-Z]{3}$'),
    created_at     timestamptz NOT NULL,
    completed_at   timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- de-duplication: the newest analysis of a normalised URL
CREATE INDEX analyses_normalized_url_created_at_idx ON analyses (normalized_url, created_at DESC);
-- listings and warm-up by recency
CREATE INDEX analyses_created_at_idx ON analyses (created_at DESC);
CREATE TRIGGER analyses_set_updated_at BEFORE UPDATE ON analyses
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE opportunities (
    id               uuid PRIMARY KEY,
    analysis_id      uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
    opportunity_id   text NOT NULL CHECK (length(opportunity_id) BETWEEN 1 AND 100),
    category         text NOT NULL
        CHECK (category IN ('digital_presence', 'value_creation', 'business_management')),
    hours_per_week   double precision NOT NULL CHECK (hours_per_week >= 0 AND hours_per_week <= 168),
    hours_per_year   integer NOT NULL CHECK (hours_per_year >= 0 AND hours_per_year <= 8784),
    problem_teaser   text,
    complexity_level smallint NOT NULL CHECK (complexity_level BETWEEN 1 AND 10),
    tools_hint       text,
    -- order as recorded by the pipeline
    position         smallint NOT NULL CHECK (position >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- also the access path "opportunities of an analysis"
    CONSTRAINT opportunities_analysis_opportunity_key UNIQUE (analysis_id, opportunity_id)
);
CREATE TRIGGER opportunities_set_updated_at BEFORE UPDATE ON opportunities
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE user_progress (
    analysis_id    uuid NOT NULL,
    opportunity_id text NOT NULL,
    status         text NOT NULL DEFAULT 'NOT_STARTED'
        CHECK (status IN ('NOT_STARTED', 'IN_PROGRESS', 'IMPLEMENTED')),
    implemented_at timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (analysis_id, opportunity_id),
    FOREIGN KEY (analysis_id, opportunity_id)
        REFERENCES opportunities (analysis_id, opportunity_id) ON DELETE CASCADE,
    CONSTRAINT user_progress_implemented_at_check
        CHECK ((status = 'IMPLEMENTED') = (implemented_at IS NOT NULL))
);
-- platform KPIs: implementations over time
CREATE INDEX user_progress_implemented_at_idx ON user_progress (implemented_at)
    WHERE implemented_at IS NOT NULL;
CREATE TRIGGER user_progress_set_updated_at BEFORE UPDATE ON user_progress
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Every accepted change, in order. Streaks are computed from it: the latest status alone cannot
-- show activity on seven different days.
CREATE TABLE progress_activity (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    analysis_id    uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
    opportunity_id text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('status_change', 'note', 'effort')),
    from_status    text CHECK (from_status IN ('NOT_STARTED', 'IN_PROGRESS', 'IMPLEMENTED')),
    to_status      text CHECK (to_status IN ('NOT_STARTED', 'IN_PROGRESS', 'IMPLEMENTED')),
    note           text,
    effort_hours   double precision CHECK (effort_hours >= 0),
    occurred_at    timestamptz NOT NULL,
    activity_day   date GENERATED ALWAYS AS ((occurred_at AT TIME ZONE 'UTC')::date) STORED,
    CONSTRAINT progress_activity_status_change_check
        CHECK (kind <> 'status_change' OR (from_status IS NOT NULL AND to_status IS NOT NULL))
);
-- streaks and first implementation per analysis
CREATE INDEX progress_activity_analysis_day_idx ON progress_activity (analysis_id, activity_day);
-- platform KPIs per period
CREATE INDEX progress_activity_occurred_at_idx ON progress_activity (occurred_at);

CREATE FUNCTION progress_activity_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'progress_activity is append-only';
END
$$;
CREATE TRIGGER progress_activity_no_update BEFORE UPDATE ON progress_activity
    FOR EACH ROW EXECUTE FUNCTION progress_activity_append_only();
