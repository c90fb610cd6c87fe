//! The LLM generator: an OpenAI-compatible chat-completions API asked for a
//! JSON-schema answer, which is validated before anyone stores it. Each HTTP
//! attempt has a timeout; 429s, 5xx, timeouts and unusable answers are retried
//! with backoff (honouring `Retry-After` up to a cap), all within the
//! request's deadline. The provider's own words go to the log once, never to
//! the caller.

mod validate;
mod wire;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use rand::Rng;
use secrecy::ExposeSecret;

use super::domain::GeneratedQuiz;
use super::generator::{GenerationError, GenerationRequest, Material, QuizGenerator};
use crate::config::LlmConfig;

/// Largest answer body read from the provider.
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Told to the caller when the provider gave no `Retry-After`.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(10);

pub struct LlmGenerator {
    client: reqwest::Client,
    endpoint: url::Url,
    config: LlmConfig,
}

/// Why one attempt failed.
enum Failure {
    /// Worth another try, after `retry_after` when the provider said so.
    Retry(Option<Duration>),
    /// Will not get better by retrying (bad key, bad request, refusal).
    Fatal,
}

impl LlmGenerator {
    /// Builds the client once per cold start. Connects lazily.
    pub fn new(config: &LlmConfig) -> anyhow::Result<Self> {
        let mut endpoint = config.base_url.clone();
        let path = format!("{}/chat/completions", endpoint.path().trim_end_matches('/'));
        endpoint.set_path(&path);
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("folio-quiz/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(LlmGenerator {
            client,
            endpoint,
            config: config.clone(),
        })
    }

    async fn attempt(
        &self,
        body: &serde_json::Value,
        timeout: Duration,
        request: &GenerationRequest,
    ) -> Result<GeneratedQuiz, Failure> {
        let mut call = self
            .client
            .post(self.endpoint.clone())
            .timeout(timeout)
            .json(body);
        if let Some(key) = &self.config.api_key {
            call = call.bearer_auth(key.expose_secret());
        }
        let mut response = call.send().await.map_err(|e| {
            tracing::warn!(error = %e.without_url(), timeout_ms = timeout.as_millis() as u64, "LLM request failed");
            Failure::Retry(None)
        })?;
        let status = response.status();
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if bytes.len() + chunk.len() <= MAX_RESPONSE_BYTES => {
                    bytes.extend_from_slice(&chunk)
                }
                Ok(Some(_)) => {
                    tracing::warn!("LLM answer larger than {MAX_RESPONSE_BYTES} bytes");
                    return Err(Failure::Retry(None));
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e.without_url(), "LLM answer could not be read");
                    return Err(Failure::Retry(None));
                }
            }
        }
        if !status.is_success() {
            let said: String = String::from_utf8_lossy(&bytes).chars().take(500).collect();
            tracing::warn!(status = status.as_u16(), provider_said = %said, "LLM provider refused");
            let retryable =
                status.as_u16() == 429 || status.as_u16() == 408 || status.is_server_error();
            return Err(if retryable {
                Failure::Retry(retry_after(response.headers()))
            } else {
                Failure::Fatal
            });
        }
        self.read_quiz(&bytes, request)
    }

    fn read_quiz(
        &self,
        bytes: &[u8],
        request: &GenerationRequest,
    ) -> Result<GeneratedQuiz, Failure> {
        let invalid = |why: String| {
            tracing::warn!(reason = %why, "LLM answer unusable");
            Failure::Retry(None)
        };
        let chat: wire::ChatResponse = serde_json::from_slice(bytes)
            .map_err(|e| invalid(format!("not a chat completion: {e}")))?;
        let message = chat
            .choices
            .into_iter()
            .next()
            .map(|c| c.message)
            .ok_or_else(|| invalid("no choices".into()))?;
        let Some(content) = message.content else {
            if message.refusal.is_some() {
                tracing::warn!("LLM refused to write the quiz");
                return Err(Failure::Fatal);
            }
            return Err(invalid("no content".into()));
        };
        let raw: wire::RawQuiz = serde_json::from_str(&content)
            .map_err(|e| invalid(format!("content is not the quiz JSON: {e}")))?;
        let fallback_title = match &request.material {
            Material::Topic(topic) => format!("Quiz: {}", topic.as_str()),
            Material::Text { .. } => "Quiz".to_owned(),
        };
        validate::validate(raw, request.options.question_count.get(), &fallback_title)
            .map_err(invalid)
    }
}

#[async_trait]
impl QuizGenerator for LlmGenerator {
    fn name(&self) -> String {
        format!("llm:{}", self.config.model)
    }

    async fn generate(
        &self,
        request: &GenerationRequest,
    ) -> Result<GeneratedQuiz, GenerationError> {
        let (body, truncated) =
            wire::request_body(&self.config.model, &request.material, &request.options);
        let mut told_retry_after = None;
        let mut retries = 0;
        loop {
            let remaining = request.deadline.saturating_duration_since(Instant::now());
            if remaining < Duration::from_millis(50) {
                tracing::warn!("LLM gave no usable answer before the deadline");
                break;
            }
            let attempt = self
                .attempt(&body, remaining.min(self.config.timeout), request)
                .await;
            crate::metrics::llm_call(attempt.is_ok());
            let wait = match attempt {
                Ok(mut quiz) => {
                    if truncated {
                        quiz.warnings.push(format!(
                            "the text was longer than {} characters; the LLM saw its beginning only",
                            wire::MAX_SOURCE_CHARS
                        ));
                    }
                    return Ok(quiz);
                }
                Err(Failure::Fatal) => break,
                Err(Failure::Retry(_)) if retries >= self.config.max_retries => break,
                Err(Failure::Retry(Some(after))) if after > self.config.max_retry_after => {
                    told_retry_after = Some(after);
                    break;
                }
                Err(Failure::Retry(Some(after))) => {
                    told_retry_after = Some(after);
                    after
                }
                Err(Failure::Retry(None)) => backoff(retries),
            };
            if Instant::now() + wait >= request.deadline {
                break;
            }
            tokio::time::sleep(wait).await;
            retries += 1;
        }
        Err(GenerationError::Unavailable {
            retry_after_secs: told_retry_after
                .unwrap_or(DEFAULT_RETRY_AFTER)
                .as_secs()
                .max(1),
        })
    }
}

/// 250 ms, 500 ms, 1 s… up to 4 s, each with jitter (half to all of it).
fn backoff(retries: u32) -> Duration {
    let full = Duration::from_millis(250)
        .saturating_mul(1 << retries.min(4))
        .min(Duration::from_secs(4));
    full.mul_f64(rand::rng().random_range(0.5..=1.0))
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let raw = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
    Some(Duration::from_millis(u64::try_from(secs).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "2".parse().expect("header"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::ZERO),
            "a past date means now"
        );
        h.insert("retry-after", "soon".parse().expect("header"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(0) <= Duration::from_millis(250));
        assert!(backoff(1) >= Duration::from_millis(250));
        assert!(backoff(30) <= Duration::from_secs(4));
    }
}
