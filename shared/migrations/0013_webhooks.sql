-- Webhooks (see docs/webhooks.md). One endpoint per user: its secret
-- (`whsec_` + base64) signs every delivery to that user, to the registered
-- URL or to a job's own callback URL. The secret is kept as is: HMAC needs it.
CREATE TABLE webhook_endpoints (
    owner_id   text        PRIMARY KEY,
    -- NULL: the secret only signs per-job callbacks.
    url        text,
    secret     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A job's own callback URL (`callback_url`), used instead of the owner's
-- registered URL when the job finishes. Goes with its job.
CREATE TABLE webhook_callbacks (
    job_id uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    url    text NOT NULL
);
