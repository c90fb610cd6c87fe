//! `POST /v1/quizzes/{id}/attempts`: answers in, score and explanations out.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use shared::auth::AuthUser;
use shared::quiz::store::Attempt;

use crate::QuizState;

pub fn router() -> Router<QuizState> {
    Router::new().route("/v1/quizzes/{id}/attempts", post(create_attempt))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAttemptRequest {
    /// One choice index per question, in order.
    answers: Vec<i64>,
}

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
