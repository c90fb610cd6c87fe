//! The chat-completions request folio sends and the parts of the answer it
//! reads, with the JSON schema the model is asked to follow.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::quiz::domain::{Difficulty, QuizOptions};
use crate::quiz::generator::Material;

/// Longest source text sent to the provider, in characters.
pub const MAX_SOURCE_CHARS: usize = 48_000;

/// The schema of the answer. Counts are checked after parsing (`validate`),
/// not here: strict structured-output modes refuse `minItems`/`maxItems`.
fn schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["title", "questions"],
        "properties": {
            "title": {"type": "string"},
            "questions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["prompt", "choices", "answer_index", "explanation"],
                    "properties": {
                        "prompt": {"type": "string"},
                        "choices": {"type": "array", "items": {"type": "string"}},
                        "answer_index": {"type": "integer"},
                        "explanation": {"type": "string"}
                    }
                }
            }
        }
    })
}

fn difficulty_hint(difficulty: Difficulty) -> &'static str {
    match difficulty {
        Difficulty::Easy => "easy: ask about the central ideas and key terms",
        Difficulty::Medium => "medium: ask about key facts and how they relate",
        Difficulty::Hard => "hard: ask about specific details, figures and what follows from them",
    }
}

/// The request body, and whether the source text had to be shortened.
pub fn request_body(model: &str, material: &Material, options: &QuizOptions) -> (Value, bool) {
    let n = options.question_count.get();
    let system = format!(
        "You write multiple-choice quizzes. Answer only with JSON matching the schema. Write exactly {n} \
         questions. Each question has exactly four distinct choices, one of them correct; answer_index is \
         the 0-based index of the correct choice; explanation says briefly why it is correct. Write in the \
         language whose tag is `{}`. Difficulty: {}.",
        options.language.as_str(),
        difficulty_hint(options.difficulty),
    );
    let (user, truncated) = match material {
        Material::Text { text, .. } => {
            let truncated = text.chars().count() > MAX_SOURCE_CHARS;
            let text: String = text.chars().take(MAX_SOURCE_CHARS).collect();
            (
                format!(
                    "Write the quiz about this text, using only what it states.\n\n<text>\n{text}\n</text>"
                ),
                truncated,
            )
        }
        Material::Topic(topic) => (
            format!("Write the quiz about this topic: {}", topic.as_str()),
            false,
        ),
    };
    let body = json!({
        "model": model,
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user}
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "quiz", "strict": true, "schema": schema()}
        }
    });
    (body, truncated)
}

#[derive(Debug, Deserialize)]
pub struct ChatResponse {
    pub choices: Vec<ChatChoice>,
}

#[derive(Debug, Deserialize)]
pub struct ChatChoice {
    pub message: ChatMessage,
}

#[derive(Debug, Deserialize)]
pub struct ChatMessage {
    pub content: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
}

/// The quiz as the model wrote it, before validation.
#[derive(Debug, Deserialize)]
pub struct RawQuiz {
    #[serde(default)]
    pub title: String,
    pub questions: Vec<RawQuestion>,
}

#[derive(Debug, Deserialize)]
pub struct RawQuestion {
    pub prompt: String,
    pub choices: Vec<String>,
    pub answer_index: i64,
    #[serde(default)]
    pub explanation: String,
}
