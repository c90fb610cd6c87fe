//! The one interface every quiz generator implements, and what it is given.

use std::time::Instant;

use async_trait::async_trait;

use super::domain::{GeneratedQuiz, QuizOptions, Topic};

/// The material a generator works from, already resolved (a document is its
/// recognised text by now).
#[derive(Debug, Clone)]
pub enum Material {
    /// Normalised text (see `cache::normalise_text`) and its SHA-256 (hex).
    Text {
        text: String,
        sha256: String,
    },
    Topic(Topic),
}

/// One generation job.
#[derive(Debug, Clone)]
pub struct GenerationRequest {
    pub material: Material,
    pub options: QuizOptions,
    /// The generator must give up by then (the request's own deadline comes later).
    pub deadline: Instant,
}

/// Why a generator produced no quiz.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum GenerationError {
    /// The material cannot make even one good question (422).
    #[error("{0}")]
    NotEnoughContent(String),
    /// This generator cannot use this material (extractive given a topic: 422).
    #[error("{0}")]
    Unsupported(String),
    /// The provider failed or answered unusably after every retry (503). The
    /// provider's own words are logged, never carried here.
    #[error("the quiz generator is unavailable")]
    Unavailable { retry_after_secs: u64 },
}

/// A quiz generator: `extractive` (built in, offline) or `llm`.
#[async_trait]
pub trait QuizGenerator: Send + Sync {
    /// As the answer's `generator` field says it: `extractive` or `llm:<model>`.
    fn name(&self) -> String;

    /// Makes at most `options.question_count` questions. Fewer are allowed
    /// only when the material holds no more, and then a warning says so.
    async fn generate(&self, request: &GenerationRequest)
    -> Result<GeneratedQuiz, GenerationError>;
}
