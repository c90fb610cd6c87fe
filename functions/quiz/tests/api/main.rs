//! The `quiz` function over its real router, against the real Postgres and
//! Redis; the LLM is a real local HTTP fake (`llm_fake`), never the network.

mod attempts;
mod bodies;
mod create;
mod documents;
mod flags;
mod helpers;
mod limits;
mod llm;
mod llm_fake;
mod stats;
