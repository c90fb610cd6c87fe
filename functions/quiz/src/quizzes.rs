//! `POST /v1/quizzes` and `GET /v1/quizzes/{id}`.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::auth::AuthUser;
use shared::error::Problem;
use shared::flags::{self, Flag};
use shared::limits::{self, Family};
use shared::quiz::store::StoredQuiz;
use shared::quiz::{
    Difficulty, GeneratorChoice, Language, QuestionCount, QuizOptions, QuizRequest, QuizSource,
    SourceText, Topic,
};
use uuid::Uuid;

use crate::QuizState;

pub fn router(state: &QuizState) -> Router<QuizState> {
    // The text limit decides the body limit, enforced before the body is read
    // whole; generation is rate limited per user before the body is read at all.
    let body_limit = state.quizzes.config().max_body_bytes();
    Router::new()
        .route(
            "/v1/quizzes",
            post(create_quiz)
                .layer(DefaultBodyLimit::max(body_limit))
                .layer(limits::layer(&state.app, Family::Quiz)),
        )
        .route("/v1/quizzes/{id}", get(get_quiz))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateQuizRequest {
    source: SourceDto,
    /// How many questions to ask for, 1–50 (default 5).
    #[serde(default = "default_count")]
    #[schema(minimum = 1, maximum = 50, default = 5)]
    question_count: i64,
    #[serde(default)]
    difficulty: Option<Difficulty>,
    /// A language tag such as `en` or `pt-BR` (default `en`).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", example = "en")]
    language: Option<String>,
    #[serde(default)]
    generator: GeneratorChoice,
}

/// Exactly one of `{"text"}`, `{"document_id"}`, `{"topic"}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum SourceDto {
    /// The text to ask about (at most `QUIZ_MAX_TEXT_BYTES`).
    Text(String),
    /// A document the caller recognised.
    DocumentId(Uuid),
    /// A topic for the LLM, 1 to 200 printable characters.
    Topic(String),
}

fn default_count() -> i64 {
    5
}

impl CreateQuizRequest {
    fn parse(self, max_text_bytes: usize) -> Result<QuizRequest, shared::Error> {
        let source = match self.source {
            SourceDto::Text(text) => QuizSource::Text(SourceText::parse(text, max_text_bytes)?),
            SourceDto::DocumentId(id) => QuizSource::Document(id),
            SourceDto::Topic(topic) => QuizSource::Topic(Topic::parse(&topic)?),
        };
        Ok(QuizRequest {
            source,
            options: QuizOptions {
                question_count: QuestionCount::parse(self.question_count)?,
                difficulty: self.difficulty.unwrap_or(Difficulty::Medium),
                language: Language::parse(self.language.as_deref().unwrap_or("en"))?,
            },
            generator: self.generator,
        })
    }
}

/// A quiz as its owner sees it before an attempt: no answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuizResponse {
    quiz_id: Uuid,
    title: String,
    generator: String,
    cached: bool,
    /// How many questions were asked for (`questions` may hold fewer).
    requested: i16,
    warnings: Vec<String>,
    questions: Vec<QuestionResponse>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct QuestionResponse {
    question_id: Uuid,
    prompt: String,
    choices: Vec<String>,
}

impl From<StoredQuiz> for QuizResponse {
    fn from(quiz: StoredQuiz) -> Self {
        QuizResponse {
            quiz_id: quiz.id,
            title: quiz.title,
            generator: quiz.generator,
            cached: quiz.cached,
            requested: quiz.requested,
            warnings: quiz.warnings,
            questions: quiz
                .questions
                .into_iter()
                .map(|q| QuestionResponse {
                    question_id: q.id,
                    prompt: q.prompt,
                    choices: q.choices,
                })
                .collect(),
            created_at: quiz.created_at,
        }
    }
}

/// A quiz from a text, a recognised document or a topic (201).
#[utoipa::path(
    post,
    path = "/v1/quizzes",
    tag = "quiz",
    request_body = CreateQuizRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "the quiz, without its answers", body = QuizResponse,
            headers(("Location" = String, description = "`/v1/quizzes/{quiz_id}`")),
            links(
                ("GetQuiz" = (operation_id = "get_quiz", parameters(("id" = "$response.body#/quiz_id")))),
                ("AttemptQuiz" = (operation_id = "create_attempt", parameters(("id" = "$response.body#/quiz_id")))),
            )),
        (status = 400, description = "`bad-request`: malformed JSON, two sources at once", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: a document that is not the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`conflict`: the document's recognition has not finished", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported-media-type`: not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-body`, `invalid-question-count`, `empty-text`, `text-too-long`, `invalid-topic`, `invalid-language`, `topic-needs-llm`, `llm-not-configured`, `not-enough-content`, `empty-document`, `document-reads-poorly`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate-limited`, with `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_quiz(
    State(state): State<QuizState>,
    user: AuthUser,
    Json(body): Json<CreateQuizRequest>,
) -> Result<impl IntoResponse, shared::Error> {
    let mut request = body.parse(state.quizzes.config().max_text_bytes)?;
    // Without the LLM generator, `auto` means extractive; asking for the LLM
    // (or a topic, which needs it) is refused.
    let llm = state
        .app
        .flags
        .enabled(Flag::LlmQuiz, Some(&user.user_id))
        .await;
    if !llm {
        match (&request.source, request.generator) {
            (QuizSource::Topic(_), _) | (_, GeneratorChoice::Llm) => {
                return Err(flags::disabled(Flag::LlmQuiz));
            }
            _ => request.generator = GeneratorChoice::Extractive,
        }
    }
    let quiz = state
        .quizzes
        .create(&state.app.db, &state.app.kv, &user.user_id, request)
        .await?;
    let location = format!("/v1/quizzes/{}", quiz.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(QuizResponse::from(quiz)),
    ))
}

/// A quiz of the caller's, without answers.
#[utoipa::path(
    get,
    path = "/v1/quizzes/{id}",
    tag = "quiz",
    params(("id" = String, Path, description = "the `quiz_id`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the quiz", body = QuizResponse),
        (status = 404, description = "`not-found`: unknown, malformed or someone else's", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_quiz(
    State(state): State<QuizState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<QuizResponse>, shared::Error> {
    let quiz = state
        .quizzes
        .get(&state.app.db, &user.user_id, crate::quiz_id(&id)?)
        .await?;
    Ok(Json(quiz.into()))
}
