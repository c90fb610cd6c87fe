-- Feature flags (see docs/flags.md). The code names every flag and its
-- default; a row here overrides the default. Every change is audited.
CREATE TABLE feature_flags (
    name            text        PRIMARY KEY
                    CONSTRAINT feature_flags_name CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    enabled         boolean     NOT NULL,
    -- Share of users (by a stable hash of the user id) the flag is on for,
    -- when enabled.
    rollout_percent smallint    NOT NULL DEFAULT 100
                    CONSTRAINT feature_flags_rollout CHECK (rollout_percent BETWEEN 0 AND 100),
    updated_by      text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Who changed which flag to what, and when; never updated, never purged.
CREATE TABLE feature_flag_changes (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text        NOT NULL,
    enabled         boolean     NOT NULL,
    rollout_percent smallint    NOT NULL,
    -- The values before the change (NULL when the flag had its default).
    previous        jsonb,
    changed_by      text        NOT NULL,
    changed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feature_flag_changes_name ON feature_flag_changes (name, changed_at DESC);
