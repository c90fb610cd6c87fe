-- Fan-out of long OCR documents (docs/ocr.md, "Fan-out"): an `ocr` job whose
-- document has more OCR pages than OCR_FANOUT_PAGES becomes page-range
-- `ocr-part` jobs. The `ocr` job (the one the caller sees) waits queued, far
-- in the future, while its parts run; the part that finishes last wakes it
-- and it assembles the pages, in order, in the transaction that marks it
-- succeeded. Rows go with the parent job (purge).
CREATE TABLE ocr_fanouts (
    parent_id    uuid        PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    -- What the assembled result is stored under (shared::ocr::service::result_key).
    result_key   text        NOT NULL,
    sha256       text        NOT NULL,
    kind         text        NOT NULL,
    page_count   integer     NOT NULL CHECK (page_count > 0),
    parts_total  integer     NOT NULL CHECK (parts_total > 0),
    -- Parts that have stored their pages; bumped in each part's finishing
    -- transaction, so it reaches parts_total exactly once.
    parts_done   integer     NOT NULL DEFAULT 0 CHECK (parts_done >= 0 AND parts_done <= parts_total),
    -- Times the document was assembled: 1 once the parent succeeded, never more.
    assemblies   integer     NOT NULL DEFAULT 0 CHECK (assemblies >= 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ocr_fanout_parts (
    parent_id   uuid    NOT NULL REFERENCES ocr_fanouts (parent_id) ON DELETE CASCADE,
    part        integer NOT NULL CHECK (part >= 0),
    -- The part's job (no foreign key: finished parts may be purged first).
    job_id      uuid    NOT NULL,
    -- 0-based, end exclusive.
    first_page  integer NOT NULL CHECK (first_page >= 0),
    end_page    integer NOT NULL CHECK (end_page > first_page),
    PRIMARY KEY (parent_id, part)
);
CREATE INDEX ocr_fanout_parts_job ON ocr_fanout_parts (job_id);

-- Each recognised page (shared::ocr::Page as JSON), written by its part in
-- the transaction that marks the part succeeded.
CREATE TABLE ocr_fanout_pages (
    parent_id   uuid    NOT NULL REFERENCES ocr_fanouts (parent_id) ON DELETE CASCADE,
    page        integer NOT NULL CHECK (page > 0),
    body        jsonb   NOT NULL,
    PRIMARY KEY (parent_id, page)
);
