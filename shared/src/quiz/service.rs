//! The quiz use cases, one call per handler: create (resolve the source,
//! cache, generate, store), read, attempt, weekly stats.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::db;
use uuid::Uuid;

use super::cache::{self, SourceKey};
use super::document::load_document;
use super::domain::{GeneratorChoice, QuizRequest, QuizSource};
use super::extractive::Extractive;
use super::generator::{GenerationError, GenerationRequest, Material, QuizGenerator};
use super::llm::LlmGenerator;
use super::store::{self, Attempt, Provenance, StoredQuiz};
use super::{scoring, stats};
use crate::config::{Config, QuizConfig};
use crate::error::Error;
use crate::kv::Kv;

/// Room left after generation for storing the quiz and answering.
const ANSWER_MARGIN: Duration = Duration::from_secs(3);

/// Built once per cold start.
pub struct Quizzes {
    extractive: Extractive,
    llm: Option<Arc<dyn QuizGenerator>>,
    config: QuizConfig,
    /// How long a generator may take: well inside the request deadline.
    budget: Duration,
}

impl Quizzes {
    pub fn new(config: &Config) -> Quizzes {
        let llm = config.quiz.llm.as_ref().and_then(|c| match LlmGenerator::new(c) {
            Ok(g) => Some(Arc::new(g) as Arc<dyn QuizGenerator>),
            Err(e) => {
                tracing::error!(error = %e, "the LLM client could not be built; quizzes use the built-in generator only");
                None
            }
        });
        let deadline = config.request_timeout;
        Quizzes {
            extractive: Extractive,
            llm,
            config: config.quiz.clone(),
            budget: deadline.saturating_sub(ANSWER_MARGIN).max(deadline / 2),
        }
    }

    pub fn config(&self) -> &QuizConfig {
        &self.config
    }

    /// Makes (or takes from cache) and stores a quiz for `owner_id`.
    ///
    /// Errors: 404 for a document that is not the caller's, 409 for one not
    /// recognised yet, 422 for a topic without an LLM or a text with nothing
    /// to ask, 503 when the LLM fails (unless it may fall back).
    pub async fn create(
        &self,
        db: &PgPool,
        kv: &Kv,
        owner_id: &str,
        request: QuizRequest,
    ) -> Result<StoredQuiz, Error> {
        let started = Instant::now();
        let llm = self.choose_llm(&request)?;
        let mut warnings = Vec::new();
        let (material, source_key, document_id) = match &request.source {
            QuizSource::Text(text) => {
                let (material, key) = text_material(text.as_str());
                (material, key, None)
            }
            QuizSource::Document(id) => {
                let mut conn = db::unit(db).await?;
                let document = load_document(&mut conn, owner_id, *id).await?;
                conn.commit().await?;
                let document = document.ok_or(Error::NotFound)?;
                poorly_read(&document, &mut warnings)?;
                let text = self.within_text_limit(document.text, &mut warnings);
                if text.trim().is_empty() {
                    return Err(Error::unprocessable(
                        "empty-document",
                        "the document has no recognised text",
                    ));
                }
                let (material, key) = text_material(&text);
                (material, key, Some(*id))
            }
            QuizSource::Topic(topic) => (
                Material::Topic(topic.clone()),
                SourceKey::Topic(topic.as_str().to_owned()),
                None,
            ),
        };
        let generator: &dyn QuizGenerator = match &llm {
            Some(llm) => llm.as_ref(),
            None => &self.extractive,
        };
        let mut name = generator.name();
        let key = cache::key(&source_key, &request.options, &name);
        let (mut quiz, cached) = match cache::lookup(kv, &key).await {
            Some(hit) => {
                if llm.is_some() {
                    cache::count(kv, cache::LLM_SAVED).await;
                }
                (hit, true)
            }
            None => {
                let job = GenerationRequest {
                    material,
                    options: request.options.clone(),
                    deadline: started + self.budget,
                };
                if llm.is_some() {
                    cache::count(kv, cache::LLM_CALLS).await;
                }
                match generator.generate(&job).await {
                    Ok(quiz) => {
                        cache::store(kv, &key, &quiz, self.config.cache_ttl).await;
                        (quiz, false)
                    }
                    Err(GenerationError::Unavailable { .. })
                        if llm.is_some()
                            && self.config.fallback_to_extractive
                            && matches!(job.material, Material::Text { .. }) =>
                    {
                        tracing::warn!(
                            "the LLM is unavailable; falling back to the built-in generator"
                        );
                        name = self.extractive.name();
                        let mut quiz = self
                            .extractive
                            .generate(&job)
                            .await
                            .map_err(generation_error)?;
                        let fallback_key = cache::key(&source_key, &request.options, &name);
                        cache::store(kv, &fallback_key, &quiz, self.config.cache_ttl).await;
                        quiz.warnings.push(
                            "the LLM provider was unavailable; the built-in generator made this quiz".into(),
                        );
                        (quiz, false)
                    }
                    Err(e) => return Err(generation_error(e)),
                }
            }
        };
        quiz.warnings.extend(warnings);
        let sha256 = match &source_key {
            SourceKey::Text { sha256 } => Some(sha256.as_str()),
            SourceKey::Topic(_) => None,
        };
        let topic = match &request.source {
            QuizSource::Topic(t) => Some(t.as_str()),
            _ => None,
        };
        let provenance = Provenance {
            source_kind: request.source.kind(),
            document_id,
            source_sha256: sha256,
            topic,
        };
        let mut tx = db.begin().await?;
        let stored = store::insert_quiz(
            &mut tx,
            owner_id,
            &quiz,
            &name,
            cached,
            &request.options,
            &provenance,
        )
        .await?;
        tx.commit().await?;
        stats::forget(kv, owner_id).await;
        tracing::info!(
            quiz.id = %stored.id,
            quiz.generator = %name,
            quiz.cached = cached,
            quiz.questions = stored.questions.len(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "quiz created"
        );
        Ok(stored)
    }

    /// The LLM to use, `None` for the extractive generator; 422 when the
    /// request needs an LLM and there is none.
    fn choose_llm(&self, request: &QuizRequest) -> Result<Option<Arc<dyn QuizGenerator>>, Error> {
        let topic = matches!(request.source, QuizSource::Topic(_));
        match (request.generator, &self.llm) {
            (GeneratorChoice::Extractive, _) if topic => Err(Error::unprocessable(
                "topic-needs-llm",
                "a topic source needs the LLM generator; the extractive generator works from text or a document",
            )),
            (_, None) if topic => Err(Error::unprocessable(
                "topic-needs-llm",
                "a topic source needs an LLM provider, and none is configured (LLM_BASE_URL, LLM_API_KEY)",
            )),
            (GeneratorChoice::Llm, None) => Err(Error::unprocessable(
                "llm-not-configured",
                "no LLM provider is configured (LLM_BASE_URL, LLM_API_KEY); use the extractive generator",
            )),
            (GeneratorChoice::Extractive, _) => Ok(None),
            (_, llm) => Ok(llm.clone()),
        }
    }

    /// A document's text cut to the text limit (at a character boundary).
    fn within_text_limit(&self, mut text: String, warnings: &mut Vec<String>) -> String {
        let limit = self.config.max_text_bytes;
        if text.len() > limit {
            let mut cut = limit;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            warnings.push(format!(
                "the document's text is longer than {limit} bytes; the quiz covers its beginning"
            ));
        }
        text
    }

    /// The quiz if `owner_id` owns it, else 404.
    pub async fn get(&self, db: &PgPool, owner_id: &str, id: Uuid) -> Result<StoredQuiz, Error> {
        let mut conn = db::unit(db).await?;
        let quiz = store::fetch_quiz(&mut conn, owner_id, id).await?;
        conn.commit().await?;
        quiz.ok_or(Error::NotFound)
    }

    /// Scores and stores an attempt: 404 for another user's quiz, 422 for the
    /// wrong number of answers or an index out of range.
    pub async fn attempt(
        &self,
        db: &PgPool,
        kv: &Kv,
        owner_id: &str,
        quiz_id: Uuid,
        answers: &[i64],
    ) -> Result<Attempt, Error> {
        let mut conn = db::unit(db).await?;
        let quiz = store::fetch_quiz(&mut conn, owner_id, quiz_id)
            .await?
            .ok_or(Error::NotFound)?;
        let marked = scoring::mark(&quiz.questions, answers)?;
        let (attempt_id, created_at) = store::insert_attempt(
            &mut conn,
            owner_id,
            quiz_id,
            &marked.answers,
            marked.correct,
            marked.total,
            marked.score,
        )
        .await?;
        conn.commit().await?;
        stats::forget(kv, owner_id).await;
        Ok(Attempt {
            attempt_id,
            score: marked.score,
            correct: marked.correct,
            total: marked.total,
            results: marked.results,
            created_at,
        })
    }

    pub async fn weekly_stats(
        &self,
        db: &PgPool,
        kv: &Kv,
        owner_id: &str,
    ) -> Result<stats::WeeklyStats, Error> {
        let mut conn = db::unit(db).await?;
        let stats = stats::weekly(&mut conn, kv, owner_id, self.config.stats_ttl).await?;
        conn.commit().await?;
        Ok(stats)
    }
}

fn text_material(raw: &str) -> (Material, SourceKey) {
    let text = cache::normalise_text(raw);
    let sha256 = cache::sha256_hex(&text);
    (
        Material::Text {
            text,
            sha256: sha256.clone(),
        },
        SourceKey::Text { sha256 },
    )
}

fn generation_error(e: GenerationError) -> Error {
    match e {
        GenerationError::NotEnoughContent(detail) => {
            Error::unprocessable("not-enough-content", detail)
        }
        GenerationError::Unsupported(detail) => Error::unprocessable("topic-needs-llm", detail),
        GenerationError::Unavailable { retry_after_secs } => Error::Unavailable {
            what: "the quiz generator",
            retry_after: Duration::from_secs(retry_after_secs),
        },
    }
}

/// Above this share of its characters on pages that read poorly, a document
/// makes no quiz (422 `document-reads-poorly`); below it, those pages are
/// left out and the quiz says so in `warnings`.
pub const POOR_READING_REFUSAL_SHARE: f32 = 0.5;

fn poorly_read(
    document: &super::document::SourceDocument,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    if document.low_quality_pages.is_empty() {
        return Ok(());
    }
    let pages = document
        .low_quality_pages
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let why = format!(
        "mean OCR confidence below {:.2} or fewer than {:.0} % word-like tokens",
        crate::ocr::quality::LOW_CONFIDENCE,
        crate::ocr::quality::LOW_WORD_SHARE * 100.0
    );
    if document.low_quality_share > POOR_READING_REFUSAL_SHARE || document.text.trim().is_empty() {
        return Err(Error::unprocessable(
            "document-reads-poorly",
            format!(
                "page(s) {pages} of this document read poorly ({why}); send a clearer, upright \
                 capture of them"
            ),
        ));
    }
    warnings.push(format!(
        "page(s) {pages} read poorly ({why}) and were left out of the quiz"
    ));
    Ok(())
}

#[cfg(test)]
mod poor_reading_tests {
    use super::super::document::SourceDocument;
    use super::*;

    fn document(pages: Vec<u32>, share: f32, text: &str) -> SourceDocument {
        SourceDocument {
            sha256: String::new(),
            text: text.into(),
            low_quality_pages: pages,
            low_quality_share: share,
        }
    }

    #[test]
    fn a_document_mostly_read_poorly_is_refused_naming_its_pages_and_a_few_bad_pages_warn() {
        let mut warnings = Vec::new();
        match poorly_read(&document(vec![1, 3], 0.8, "some text"), &mut warnings) {
            Err(Error::Unprocessable { slug, detail }) => {
                assert_eq!(slug, "document-reads-poorly");
                assert!(detail.contains("1, 3"), "{detail}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        poorly_read(&document(vec![2], 0.2, "some text"), &mut warnings).expect("a warning");
        assert!(warnings[0].contains("page(s) 2"), "{warnings:?}");
        poorly_read(&document(vec![], 0.0, "some text"), &mut warnings).expect("clean");
        assert_eq!(warnings.len(), 1);
    }
}
