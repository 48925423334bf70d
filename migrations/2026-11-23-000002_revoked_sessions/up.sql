-- revokeSessions: a subject's tokens issued before `before` no longer hold.
CREATE TABLE revoked_sessions (
    sub text PRIMARY KEY,
    before timestamptz NOT NULL
);
