//! `GET /v1/quizzes/stats/weekly`: the caller's last seven days.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use shared::auth::AuthUser;
use shared::quiz::stats::WeeklyStats;

use crate::QuizState;

pub fn router() -> Router<QuizState> {
    Router::new().route("/v1/quizzes/stats/weekly", get(weekly_stats))
}

/// The caller's last seven days (cached per user for `QUIZ_STATS_TTL_SECS`).
#[utoipa::path(
    get,
    path = "/v1/quizzes/stats/weekly",
    tag = "quiz",
    security(("bearer" = [])),
    responses((status = 200, description = "the caller's figures", body = WeeklyStats))
)]
async fn weekly_stats(
    State(state): State<QuizState>,
    user: AuthUser,
) -> Result<Json<WeeklyStats>, shared::Error> {
    let stats = state
        .quizzes
        .weekly_stats(&state.app.db, &state.app.kv, &user.user_id)
        .await?;
    Ok(Json(stats))
}
