-- Sessions of callers' tokens (see docs/auth.md). Postgres is the source of
-- truth for revocations; Redis holds a fast copy that may vanish at any time.
-- A session is the token's session claim (`sid`, or `jti`) of one user.
CREATE TABLE auth_sessions (
    user_id     text        NOT NULL,
    session_id  text        NOT NULL,
    first_seen  timestamptz NOT NULL,
    -- Coarse: written at most once per SESSION_PERSIST_EVERY per session;
    -- the exact value lives in Redis.
    last_seen   timestamptz NOT NULL,
    user_agent  text,
    revoked_at  timestamptz,
    PRIMARY KEY (user_id, session_id)
);

-- GET /v1/sessions: a user's live sessions, most recent first.
CREATE INDEX auth_sessions_user_last_seen ON auth_sessions (user_id, last_seen DESC)
    WHERE revoked_at IS NULL;

-- Log out everywhere in O(1): every session of the user that started (or
-- whose token was issued) before `not_before` is over.
CREATE TABLE auth_user_marks (
    user_id    text        PRIMARY KEY,
    not_before timestamptz NOT NULL
);
