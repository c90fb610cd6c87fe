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

#[cfg(test)]
mod tests {
    use crate::config::{Config, Function};

    fn quiz_vars(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut vars = vec![
            (
                "DATABASE_URL".to_owned(),
                "postgres://u@127.0.0.1/db".to_owned(),
            ),
            (
                "JWT_SECRET_KEY".to_owned(),
                "0123456789abcdef0123456789abcdef".to_owned(),
            ),
        ];
        vars.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        vars
    }

    #[test]
    fn no_provider_by_default_and_defaults_for_the_rest() {
        let config = Config::from_vars(Function::Quiz, quiz_vars(&[])).expect("config");
        assert!(config.quiz.llm.is_none());
        assert_eq!(config.quiz.cache_ttl.as_secs(), 3600);
        assert_eq!(config.quiz.stats_ttl.as_secs(), 300);
        assert!(config.quiz.fallback_to_extractive);
        assert!(config.quiz.max_body_bytes() > config.quiz.max_text_bytes);
    }

    #[test]
    fn a_key_alone_means_openai_and_the_key_stays_secret() {
        let config = Config::from_vars(
            Function::Quiz,
            quiz_vars(&[("OPENAI_API_KEY", "sk-hunter2")]),
        )
        .expect("config");
        let llm = config.quiz.llm.as_ref().expect("a provider");
        assert_eq!(llm.base_url.as_str(), "https://api.openai.com/v1");
        assert_eq!(llm.model, "gpt-4o-mini");
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn plain_http_to_a_remote_llm_is_refused_unless_allowed() {
        let remote = [("LLM_BASE_URL", "http://llm.example.com/v1")];
        let err = Config::from_vars(Function::Quiz, quiz_vars(&remote)).expect_err("refused");
        assert_eq!(err.variables(), vec!["LLM_BASE_URL"]);
        let allowed = [remote[0], ("ALLOW_INSECURE_TRANSPORT", "true")];
        assert!(Config::from_vars(Function::Quiz, quiz_vars(&allowed)).is_ok());
        let local = [("LLM_BASE_URL", "http://127.0.0.1:11434/v1")];
        assert!(Config::from_vars(Function::Quiz, quiz_vars(&local)).is_ok());
        let bad = [("LLM_BASE_URL", "ftp://x"), ("LLM_TIMEOUT_SECS", "0")];
        let err = Config::from_vars(Function::Quiz, quiz_vars(&bad)).expect_err("refused");
        assert_eq!(err.variables(), vec!["LLM_BASE_URL", "LLM_TIMEOUT_SECS"]);
    }
}
