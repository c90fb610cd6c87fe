-- The durable job queue (see docs/jobs.md). Postgres is the source of truth for
-- every job; Redis only carries notices and counters about them.
--
-- Life of a job: queued -> running (claimed: attempts + 1, a fresh lease token
-- and expiry) -> succeeded | queued again (retry with backoff) | failed (dead:
-- out of attempts, or a permanent error). A running job whose lease expired is
-- put back to queued (or failed) by the next tick's rescue.
CREATE TABLE jobs (
    id               uuid        PRIMARY KEY,
    kind             text        NOT NULL CHECK (kind <> ''),
    -- The user the job belongs to (a JWT `sub`); NULL for system jobs.
    owner_id         text,
    payload          jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status           text        NOT NULL DEFAULT 'queued'
                     CONSTRAINT jobs_status_check
                     CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    -- Higher runs first.
    priority         smallint    NOT NULL DEFAULT 0,
    -- Not claimed before this instant (scheduling and retry backoff).
    run_at           timestamptz NOT NULL DEFAULT now(),
    -- Attempts started so far, counted when a job is claimed.
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     integer     NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    -- The current attempt's fencing token: finishing writes need it. NULL
    -- unless running.
    lease_token      uuid,
    lease_expires_at timestamptz,
    -- Which worker holds the lease (diagnostics only).
    locked_by        text,
    last_error       text,
    progress         jsonb,
    result           jsonb,
    -- The same (kind, key) enqueued twice gives one job while the first exists.
    idempotency_key  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    CONSTRAINT jobs_lease_iff_running
        CHECK ((status = 'running') = (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CONSTRAINT jobs_finished_iff_terminal
        CHECK ((status IN ('succeeded', 'failed')) = (finished_at IS NOT NULL))
);

-- Claim: due queued jobs, highest priority first, then oldest run_at.
CREATE INDEX jobs_claimable ON jobs (priority DESC, run_at) WHERE status = 'queued';
-- Rescue: running jobs whose lease ran out.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
-- Purge of finished jobs past their retention, and the dead count in readiness.
CREATE INDEX jobs_finished ON jobs (status, finished_at) WHERE status IN ('succeeded', 'failed');
CREATE UNIQUE INDEX jobs_idempotency ON jobs (kind, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_owner ON jobs (owner_id, created_at DESC) WHERE owner_id IS NOT NULL;

-- The retry rule, in one place for every caller (failures and rescue): after
-- attempt n (1-based) a job waits min(max, base * 2^(n-1)) ms, scaled by a
-- random factor in [0.75, 1.25) so that jobs that failed together do not all
-- come back together. Mirrored by `jobs::Backoff::bounds` for the tests.
CREATE FUNCTION jobs_retry_at(attempts integer, base_ms float8, max_ms float8)
RETURNS timestamptz
LANGUAGE sql VOLATILE
AS $$
    SELECT now() + make_interval(secs =>
        least(max_ms, base_ms * power(2::float8, least(greatest(attempts - 1, 0), 62)))
        * (0.75 + random() * 0.5) / 1000.0)
$$;

-- Request bodies waiting for a job (an async OCR upload, say). Dropped with
-- their job, once their job has finished, or at `expires_at`, whichever is first.
CREATE TABLE uploads (
    id           uuid        PRIMARY KEY,
    owner_id     text        NOT NULL,
    job_id       uuid        REFERENCES jobs (id) ON DELETE CASCADE
                             DEFERRABLE INITIALLY DEFERRED,
    content      bytea       NOT NULL,
    content_type text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL DEFAULT now() + interval '24 hours'
);

CREATE INDEX uploads_expiry ON uploads (expires_at);
CREATE INDEX uploads_job ON uploads (job_id) WHERE job_id IS NOT NULL;
