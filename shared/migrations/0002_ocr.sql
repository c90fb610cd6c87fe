-- OCR results, shared by content: one row per (document bytes, options that
-- can change the result). Nobody reads this table directly: every upload gets
-- a `documents` row of its own (owner only) that points here, so identical
-- bytes are recognised once for everyone.
CREATE TABLE ocr_results (
    -- `v1:<sha256>:<kind>:<options>`; see shared::ocr::service::result_key.
    result_key  text        PRIMARY KEY,
    sha256      text        NOT NULL CONSTRAINT ocr_results_sha256_hex CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    kind        text        NOT NULL,
    lang        text        NOT NULL,
    page_count  integer     NOT NULL CHECK (page_count > 0),
    ocr_pages   integer     NOT NULL CHECK (ocr_pages >= 0),
    -- shared::ocr::Recognised: {"page_count","lang","pages":[…]}
    result      jsonb       NOT NULL,
    -- How long the recognition took when it was done.
    work_ms     integer     NOT NULL CHECK (work_ms >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ocr_results_sha256 ON ocr_results (sha256);

-- One row per recognised upload, owned by the caller who sent it.
CREATE TABLE documents (
    id          uuid        PRIMARY KEY,
    owner_id    text        NOT NULL,
    result_key  text        NOT NULL REFERENCES ocr_results (result_key),
    sha256      text        NOT NULL,
    kind        text        NOT NULL,
    lang        text        NOT NULL,
    page_count  integer     NOT NULL CHECK (page_count > 0),
    -- The answer the owner was given: served from cache, and how long it took.
    cached      boolean     NOT NULL,
    elapsed_ms  integer     NOT NULL CHECK (elapsed_ms >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_owner ON documents (owner_id, created_at DESC);
CREATE INDEX documents_result ON documents (result_key);
