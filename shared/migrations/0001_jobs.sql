-- The durable job queue. Postgres is the source of truth for every job; Redis
-- only carries hints and notices about them.
CREATE TABLE jobs (
    id              uuid PRIMARY KEY,
    kind            text        NOT NULL,
    owner_id        text,
    payload         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status          text        NOT NULL DEFAULT 'queued'
                    CONSTRAINT jobs_status_check
                    CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    priority        smallint    NOT NULL DEFAULT 0,
    run_at          timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    max_attempts    integer     NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    lease_token     uuid,
    lease_expires_at timestamptz,
    last_error      text,
    progress        jsonb,
    result          jsonb,
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);

-- The claim query: queued jobs that are due, highest priority first, oldest first.
CREATE INDEX jobs_claimable ON jobs (priority DESC, run_at) WHERE status = 'queued';
-- Rescue: running jobs whose lease ran out.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
-- Purge of finished jobs past their retention.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE status IN ('succeeded', 'failed');
CREATE UNIQUE INDEX jobs_idempotency ON jobs (kind, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_owner ON jobs (owner_id, created_at DESC);
