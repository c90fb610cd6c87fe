-- Quizzes, their questions (answers and explanations included: they leave the
-- server only in an attempt's results) and attempts. Owner-only: every read
-- filters on owner_id.
CREATE TABLE quizzes (
    id              uuid PRIMARY KEY,
    owner_id        text        NOT NULL,
    title           text        NOT NULL,
    -- `extractive` or `llm:<model>`.
    generator       text        NOT NULL,
    source_kind     text        NOT NULL
                    CONSTRAINT quizzes_source_kind_check
                    CHECK (source_kind IN ('text', 'document', 'topic')),
    document_id     uuid,
    -- SHA-256 of the normalised source text (null for a topic).
    source_sha256   text,
    topic           text,
    difficulty      text        NOT NULL
                    CONSTRAINT quizzes_difficulty_check
                    CHECK (difficulty IN ('easy', 'medium', 'hard')),
    language        text        NOT NULL,
    requested_count smallint    NOT NULL CHECK (requested_count BETWEEN 1 AND 50),
    cached          boolean     NOT NULL DEFAULT false,
    warnings        text[]      NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- A user's quizzes, newest first; also the weekly stats' range scan.
CREATE INDEX quizzes_owner_created ON quizzes (owner_id, created_at DESC);

CREATE TABLE quiz_questions (
    id           uuid PRIMARY KEY,
    quiz_id      uuid     NOT NULL REFERENCES quizzes (id) ON DELETE CASCADE,
    position     smallint NOT NULL,
    prompt       text     NOT NULL,
    choices      jsonb    NOT NULL
                 CONSTRAINT quiz_questions_four_choices
                 CHECK (jsonb_typeof(choices) = 'array' AND jsonb_array_length(choices) = 4),
    answer_index smallint NOT NULL CHECK (answer_index BETWEEN 0 AND 3),
    explanation  text     NOT NULL,
    CONSTRAINT quiz_questions_position UNIQUE (quiz_id, position)
);

CREATE TABLE quiz_attempts (
    id         uuid PRIMARY KEY,
    quiz_id    uuid        NOT NULL REFERENCES quizzes (id) ON DELETE CASCADE,
    owner_id   text        NOT NULL,
    answers    smallint[]  NOT NULL,
    correct    integer     NOT NULL CHECK (correct >= 0),
    total      integer     NOT NULL CHECK (total > 0 AND correct <= total),
    score      double precision NOT NULL CHECK (score >= 0 AND score <= 1),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The weekly stats per user, and an attempt's quiz.
CREATE INDEX quiz_attempts_owner_created ON quiz_attempts (owner_id, created_at DESC);
CREATE INDEX quiz_attempts_quiz ON quiz_attempts (quiz_id);
