//! The quiz cache: generated quizzes (answers included; they stay server-side)
//! by source + options + generator, in Redis with a TTL. Redis is only an
//! accelerator here: any Redis failure is a miss, never an error.
//!
//! `lookup`/`store` are the one place the cache is read and written. They are
//! not the Redis layer's `get_or_compute`: an LLM failure that falls back to
//! the extractive generator is stored under the extractive key, which a
//! single-key loader cannot express (so there is no single-flight here).

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::domain::{GeneratedQuiz, QuizOptions};
use crate::kv::Kv;

/// Counter names (under the `counters:` prefix): cache hits and misses, LLM
/// generations sent and LLM generations a hit made unnecessary.
pub const HIT: &str = "counters:quiz.cache.hit";
pub const MISS: &str = "counters:quiz.cache.miss";
pub const LLM_CALLS: &str = "counters:quiz.llm.calls";
pub const LLM_SAVED: &str = "counters:quiz.llm.saved";

/// Bumped when the cached shape or a generator's output changes, so old
/// entries are never read back as new ones.
const VERSION: u32 = 1;

/// Text as the generators see it and as it is hashed: `\r\n` and form feeds
/// (page breaks) become line breaks, runs of spaces one space, lines trimmed,
/// and more than one blank line one blank line.
pub fn normalise_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut blank_lines = 0;
    for line in raw
        .replace("\r\n", "\n")
        .replace(['\r', '\u{c}'], "\n\n")
        .lines()
    {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        out.push_str(&line);
    }
    out
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// What identifies a source in the key. A document is keyed by the hash of
/// its recognised text, so the same text sent as text shares the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKey {
    Text {
        sha256: String,
    },
    /// The topic, lower-cased.
    Topic(String),
}

/// The cache key: source + options + generator (`extractive` or `llm:<model>`).
pub fn key(source: &SourceKey, options: &QuizOptions, generator: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!("v{VERSION}\n"));
    match source {
        SourceKey::Text { sha256 } => h.update(format!("text:{sha256}\n")),
        SourceKey::Topic(topic) => h.update(format!("topic:{}\n", topic.to_lowercase())),
    }
    h.update(format!(
        "count:{}\ndifficulty:{}\nlanguage:{}\ngenerator:{generator}\n",
        options.question_count.get(),
        options.difficulty.as_str(),
        options.language.as_str().to_ascii_lowercase(),
    ));
    format!("quiz:cache:{}", hex::encode(h.finalize()))
}

/// The cached quiz under `key`, counting the hit or miss. A Redis failure or
/// an unreadable entry is a miss.
pub async fn lookup(kv: &Kv, key: &str) -> Option<GeneratedQuiz> {
    let found = match kv.get(key).await {
        Ok(Some(bytes)) => serde_json::from_slice::<GeneratedQuiz>(&bytes)
            .inspect_err(
                |e| tracing::warn!(error = %e, "unreadable quiz cache entry; regenerating"),
            )
            .ok(),
        Ok(None) => None,
        Err(e) => {
            tracing::debug!(error = %e, "quiz cache unavailable; generating uncached");
            None
        }
    };
    crate::metrics::cache_lookup("quiz", found.is_some());
    count(kv, if found.is_some() { HIT } else { MISS }).await;
    found
}

/// Stores `quiz` under `key` for `ttl`. Failures are logged and ignored.
pub async fn store(kv: &Kv, key: &str, quiz: &GeneratedQuiz, ttl: Duration) {
    let Ok(bytes) = serde_json::to_vec(quiz) else {
        return;
    };
    if let Err(e) = kv.set(key, &bytes, Some(ttl)).await {
        tracing::debug!(error = %e, "quiz cache write failed; continuing uncached");
    }
}

/// Adds one to a counter; a Redis failure loses the count, nothing else.
pub async fn count(kv: &Kv, counter: &str) {
    let _ = kv.incr_by(counter, 1).await;
}

/// The counters' current values: (hits, misses, LLM calls, LLM calls saved).
pub async fn counters(kv: &Kv) -> [i64; 4] {
    let mut out = [0; 4];
    for (slot, name) in out.iter_mut().zip([HIT, MISS, LLM_CALLS, LLM_SAVED]) {
        if let Ok(Some(v)) = kv.get(name).await {
            *slot = std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::domain::{Difficulty, Language, QuestionCount};

    fn opts(n: i64, difficulty: Difficulty) -> QuizOptions {
        QuizOptions {
            question_count: QuestionCount::parse(n).expect("n"),
            difficulty,
            language: Language::parse("en").expect("en"),
        }
    }

    #[test]
    fn normalising_ignores_spacing_and_line_endings_but_keeps_paragraphs() {
        let a = normalise_text("Title\r\n\r\n\r\n  Plants   grow.\tThey\u{c}need light.  ");
        assert_eq!(a, "Title\n\nPlants grow. They\n\nneed light.");
        assert_eq!(
            normalise_text("Title\n\nPlants grow. They\n\n\n\nneed light."),
            a
        );
    }

    #[test]
    fn the_key_changes_with_every_part() {
        let text = SourceKey::Text {
            sha256: "ab".into(),
        };
        let base = key(&text, &opts(5, Difficulty::Easy), "extractive");
        assert_eq!(base, key(&text, &opts(5, Difficulty::Easy), "extractive"));
        for other in [
            key(
                &SourceKey::Text {
                    sha256: "ac".into(),
                },
                &opts(5, Difficulty::Easy),
                "extractive",
            ),
            key(&text, &opts(6, Difficulty::Easy), "extractive"),
            key(&text, &opts(5, Difficulty::Hard), "extractive"),
            key(&text, &opts(5, Difficulty::Easy), "llm:gpt-4o-mini"),
            key(
                &SourceKey::Topic("ab".into()),
                &opts(5, Difficulty::Easy),
                "extractive",
            ),
        ] {
            assert_ne!(base, other);
        }
        assert_eq!(
            key(
                &SourceKey::Topic("Rome".into()),
                &opts(5, Difficulty::Easy),
                "llm:m"
            ),
            key(
                &SourceKey::Topic("rome".into()),
                &opts(5, Difficulty::Easy),
                "llm:m"
            ),
        );
    }
}
