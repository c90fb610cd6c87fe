-- The bytes of recognised uploads, kept so `GET /v1/ocr/documents/{id}/pdf`
-- can lay the recognised words over the original. Shared by content like
-- `ocr_results`: identical uploads are stored once, and only their owners'
-- `documents` rows (same sha256) lead to them. Uploads over
-- OCR_KEEP_ORIGINAL_MAX_BYTES are not kept.
CREATE TABLE document_originals (
    sha256      text        PRIMARY KEY
                CONSTRAINT document_originals_sha256_hex CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    kind        text        NOT NULL,
    content     bytea       NOT NULL,
    size_bytes  integer     NOT NULL CHECK (size_bytes >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
