//! The `quiz` function's settings: the optional LLM provider (an
//! OpenAI-compatible chat-completions API), the quiz cache and the text limits.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::env::Env;
use super::is_loopback_host;

#[derive(Debug, Clone)]
pub struct QuizConfig {
    /// `None` when no provider is configured: `text`/`document_id` sources use
    /// the built-in extractive generator and `topic` sources are refused (422).
    pub llm: Option<LlmConfig>,
    /// How long a generated quiz is served from cache for the same source + options.
    pub cache_ttl: Duration,
    /// How long a user's weekly stats are served from cache.
    pub stats_ttl: Duration,
    /// When the provider fails on a `text`/`document_id` source, answer with the
    /// extractive generator instead of a 503.
    pub fallback_to_extractive: bool,
    /// Largest source text accepted (UTF-8 bytes); the request body limit of
    /// `POST /v1/quizzes` is derived from it.
    pub max_text_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// The API root, e.g. `https://api.openai.com/v1`; `/chat/completions` is appended.
    pub base_url: Url,
    /// Sent as `Authorization: Bearer`; local servers may need none.
    pub api_key: Option<SecretString>,
    pub model: String,
    /// Upper bound of one HTTP attempt.
    pub timeout: Duration,
    /// Retries after the first attempt (429, 5xx, timeouts, invalid answers).
    pub max_retries: u32,
    /// The longest `Retry-After` honoured; a longer one ends the retries.
    pub max_retry_after: Duration,
}

impl QuizConfig {
    /// The `POST /v1/quizzes` body limit: the text limit plus room for JSON
    /// escaping and the other fields.
    pub fn max_body_bytes(&self) -> usize {
        self.max_text_bytes
            .saturating_add(self.max_text_bytes / 4)
            .saturating_add(16 * 1024)
    }
}

const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

pub(super) fn quiz_config(env: &mut Env, allow_insecure_transport: bool) -> QuizConfig {
    let max_text_bytes = env.parse_or("QUIZ_MAX_TEXT_BYTES", 512 * 1024);
    if max_text_bytes == 0 {
        env.invalid("QUIZ_MAX_TEXT_BYTES", "must be greater than 0");
    }
    QuizConfig {
        llm: llm_config(env, allow_insecure_transport),
        cache_ttl: env.seconds_or("QUIZ_CACHE_TTL_SECS", 3600.0),
        stats_ttl: env.seconds_or("QUIZ_STATS_TTL_SECS", 300.0),
        fallback_to_extractive: env.parse_or("QUIZ_LLM_FALLBACK_TO_EXTRACTIVE", true),
        max_text_bytes,
    }
}

fn llm_config(env: &mut Env, allow_insecure_transport: bool) -> Option<LlmConfig> {
    let base = env.string("LLM_BASE_URL");
    let api_key = env
        .secret("LLM_API_KEY")
        .or_else(|| env.secret("OPENAI_API_KEY"));
    // A provider is configured by naming it or by giving a key (then OpenAI's).
    if base.is_none() && api_key.is_none() {
        return None;
    }
    let raw = base.unwrap_or_else(|| OPENAI_BASE_URL.to_owned());
    let base_url = match Url::parse(&raw) {
        Ok(u) if u.scheme() == "https" => Some(u),
        Ok(u) if u.scheme() == "http" => {
            let local = u.host_str().is_none_or(is_loopback_host);
            if !local && !allow_insecure_transport {
                env.invalid(
                    "LLM_BASE_URL",
                    "plain http:// to a non-loopback host; use https:// or set ALLOW_INSECURE_TRANSPORT=true",
                );
            }
            Some(u)
        }
        _ => {
            env.invalid("LLM_BASE_URL", "must be an https:// URL");
            None
        }
    };
    let model = env
        .string("LLM_MODEL")
        .unwrap_or_else(|| "gpt-4o-mini".to_owned());
    let timeout = env.seconds_or("LLM_TIMEOUT_SECS", 20.0);
    if timeout.is_zero() {
        env.invalid("LLM_TIMEOUT_SECS", "must be greater than 0");
    }
    let max_retries = env.parse_or("LLM_MAX_RETRIES", 2);
    let max_retry_after = env.seconds_or("LLM_MAX_RETRY_AFTER_SECS", 10.0);
    Some(LlmConfig {
        base_url: base_url?,
        api_key,
        model,
        timeout,
        max_retries,
        max_retry_after,
    })
}
