-- The live layer: a version on each analysis (caches keep the newest), and an outbox whose rows
-- commit with the change that caused them and are published to the event bus after commit.

ALTER TABLE analyses ADD COLUMN version bigint NOT NULL DEFAULT 1 CHECK (version >= 1);

CREATE TABLE event_outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    analysis_id  uuid NOT NULL REFERENCES analyses (id) ON DELETE CASCADE,
    payload      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
-- the relay's sweep of what was not published right after commit
CREATE INDEX event_outbox_unpublished_idx ON event_outbox (id) WHERE published_at IS NULL;
-- pruning published rows
CREATE INDEX event_outbox_published_at_idx ON event_outbox (published_at) WHERE published_at IS NOT NULL;
