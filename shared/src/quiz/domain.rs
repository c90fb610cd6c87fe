//! The quiz domain types. Raw request values become these at the edge
//! (`parse`), so nothing past the handler sees an unchecked string or number.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;

/// How many questions a caller may ask for.
pub const MAX_QUESTIONS: u8 = 50;
/// Longest topic accepted, in characters.
pub const MAX_TOPIC_CHARS: usize = 200;

/// 1–50 questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct QuestionCount(u8);

impl QuestionCount {
    pub fn parse(n: i64) -> Result<Self, Error> {
        match u8::try_from(n) {
            Ok(n) if (1..=MAX_QUESTIONS).contains(&n) => Ok(QuestionCount(n)),
            _ => Err(Error::unprocessable(
                "invalid-question-count",
                format!("question_count must be between 1 and {MAX_QUESTIONS}"),
            )),
        }
    }

    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

impl Difficulty {
    pub fn as_str(self) -> &'static str {
        match self {
            Difficulty::Easy => "easy",
            Difficulty::Medium => "medium",
            Difficulty::Hard => "hard",
        }
    }
}

/// A BCP 47-style language tag (`en`, `id`, `pt-BR`), lower-cased primary subtag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Language(String);

impl Language {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let mut parts = raw.split('-');
        let primary = parts.next().unwrap_or_default();
        let primary_ok =
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = parts
            .all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !(primary_ok && rest_ok) {
            return Err(Error::unprocessable(
                "invalid-language",
                "language must be a language tag such as `en` or `pt-BR`",
            ));
        }
        let mut tag = primary.to_ascii_lowercase();
        tag.push_str(&raw[primary.len()..]);
        Ok(Language(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for English, the language the offline generator is tuned for.
    pub fn is_english(&self) -> bool {
        self.0 == "en" || self.0.starts_with("en-")
    }
}

/// Source text: not blank, at most the configured number of bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceText(String);

impl SourceText {
    pub fn parse(raw: String, max_bytes: usize) -> Result<Self, Error> {
        if raw.trim().is_empty() {
            return Err(Error::unprocessable(
                "empty-text",
                "the source text is empty",
            ));
        }
        if raw.len() > max_bytes {
            return Err(Error::unprocessable(
                "text-too-long",
                format!("the source text is longer than {max_bytes} bytes"),
            ));
        }
        Ok(SourceText(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A quiz topic for the LLM: 1–200 characters, whitespace collapsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic(String);

impl Topic {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        let chars = collapsed.chars().count();
        if chars == 0 || chars > MAX_TOPIC_CHARS || collapsed.chars().any(char::is_control) {
            return Err(Error::unprocessable(
                "invalid-topic",
                format!("topic must be 1 to {MAX_TOPIC_CHARS} printable characters"),
            ));
        }
        Ok(Topic(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the questions come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuizSource {
    Text(SourceText),
    /// A recognised document of the caller's (from the `ocr` function).
    Document(Uuid),
    Topic(Topic),
}

impl QuizSource {
    pub fn kind(&self) -> &'static str {
        match self {
            QuizSource::Text(_) => "text",
            QuizSource::Document(_) => "document",
            QuizSource::Topic(_) => "topic",
        }
    }
}

/// Which generator the caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GeneratorChoice {
    /// The LLM when one is configured, else the extractive generator.
    #[default]
    Auto,
    Extractive,
    Llm,
}

/// The options that, with the source, decide a quiz (and its cache key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuizOptions {
    pub question_count: QuestionCount,
    pub difficulty: Difficulty,
    pub language: Language,
}

/// A validated `POST /v1/quizzes`.
#[derive(Debug, Clone)]
pub struct QuizRequest {
    pub source: QuizSource,
    pub options: QuizOptions,
    pub generator: GeneratorChoice,
}

/// One generated question, answer included (it never leaves the server before
/// an attempt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedQuestion {
    pub prompt: String,
    pub choices: [String; 4],
    pub answer_index: u8,
    pub explanation: String,
}

/// What a generator produces, and what the cache holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedQuiz {
    pub title: String,
    pub questions: Vec<GeneratedQuestion>,
    /// Said to the caller: fewer questions than asked, truncated input…
    #[serde(default)]
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_counts_outside_one_to_fifty_are_refused() {
        for bad in [-1, 0, 51, 256, i64::MAX] {
            assert!(QuestionCount::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            QuestionCount::parse(1).map(QuestionCount::get).ok(),
            Some(1)
        );
        assert_eq!(
            QuestionCount::parse(50).map(QuestionCount::get).ok(),
            Some(50)
        );
    }

    #[test]
    fn language_tags_are_checked_and_lower_cased() {
        assert_eq!(
            Language::parse("EN").map(|l| l.0).ok().as_deref(),
            Some("en")
        );
        assert_eq!(
            Language::parse("pt-BR").map(|l| l.0).ok().as_deref(),
            Some("pt-BR")
        );
        for bad in ["", "e", "english", "en_US", "en-", "1a"] {
            assert!(Language::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn blank_text_and_oversized_text_are_refused() {
        assert!(SourceText::parse(" \n\t ".into(), 100).is_err());
        assert!(SourceText::parse("x".repeat(101), 100).is_err());
        assert!(SourceText::parse("A sentence.".into(), 100).is_ok());
    }

    #[test]
    fn topics_are_collapsed_and_bounded() {
        assert_eq!(
            Topic::parse("  the   water cycle ")
                .map(|t| t.0)
                .ok()
                .as_deref(),
            Some("the water cycle")
        );
        assert!(Topic::parse("   ").is_err());
        assert!(Topic::parse(&"x".repeat(201)).is_err());
    }
}
