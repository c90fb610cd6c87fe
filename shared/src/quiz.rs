//! Quizzes: from a text, a recognised document or a topic, by the built-in
//! extractive generator or an LLM; cached by source + options; stored in
//! Postgres with their answers, which leave the server only after an attempt.

pub mod cache;
pub mod document;
pub mod domain;
pub mod extractive;
pub mod generator;
pub mod llm;
mod rng;
pub mod scoring;
pub mod service;
pub mod stats;
pub mod store;

pub use domain::*;
pub use generator::{GenerationError, GenerationRequest, Material, QuizGenerator};
pub use service::Quizzes;
