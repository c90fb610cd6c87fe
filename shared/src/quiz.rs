//! Quizzes: from a text, a recognised document or a topic, by the built-in
//! extractive generator or an LLM; cached by source + options; stored in
//! Postgres with their answers, which leave the server only after an attempt.

pub mod cache;
pub mod domain;
pub mod extractive;
pub mod generator;
mod rng;

pub use domain::*;
pub use generator::{GenerationError, GenerationRequest, Material, QuizGenerator};
