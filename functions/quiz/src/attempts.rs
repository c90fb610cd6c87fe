//! `POST /v1/quizzes/{id}/attempts`: answers in, score and explanations out.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use shared::auth::AuthUser;
use shared::error::Problem;
use shared::quiz::store::Attempt;

use crate::QuizState;

pub fn router() -> Router<QuizState> {
    Router::new().route("/v1/quizzes/{id}/attempts", post(create_attempt))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAttemptRequest {
    /// One choice index per question, in order.
    answers: Vec<i64>,
}

/// Answers in, score and explanations out (201).
#[utoipa::path(
    post,
    path = "/v1/quizzes/{id}/attempts",
    tag = "quiz",
    params(("id" = String, Path, description = "the `quiz_id`")),
    request_body = CreateAttemptRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "the scored attempt", body = Attempt),
        (status = 400, description = "`bad-request`: malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: unknown, malformed or someone else's quiz", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported-media-type`: not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-body`, `wrong-answer-count`, `answer-out-of-range`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_attempt(
    State(state): State<QuizState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(body): Json<CreateAttemptRequest>,
) -> Result<(StatusCode, Json<Attempt>), shared::Error> {
    let attempt = state
        .quizzes
        .attempt(
            &state.app.db,
            &state.app.kv,
            &user.user_id,
            crate::quiz_id(&id)?,
            &body.answers,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(attempt)))
}
