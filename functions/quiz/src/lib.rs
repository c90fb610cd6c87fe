//! The `quiz` function's HTTP handlers: quizzes from text, documents or
//! topics, attempts and weekly stats, grouped per resource (the logic lives
//! in `shared::quiz`); and the feature flags' admin API (`shared::flags`).

mod attempts;
mod quizzes;
mod stats;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use shared::AppState;
use shared::auth::AuthState;
use shared::quiz::Quizzes;

/// What the quiz handlers reach: the shared state and the quiz service
/// (generators and their HTTP client, built once per cold start).
#[derive(Clone)]
pub struct QuizState {
    pub app: AppState,
    pub quizzes: Arc<Quizzes>,
}

impl FromRef<QuizState> for AuthState {
    fn from_ref(state: &QuizState) -> Self {
        AuthState(state.app.auth.clone())
    }
}

/// The document of `router`'s routes (a route missing here fails the
/// `openapi_routes` test).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(
        quizzes::create_quiz,
        quizzes::get_quiz,
        attempts::create_attempt,
        stats::weekly_stats
    ))]
    struct Doc;
    let mut doc = Doc::openapi();
    doc.merge(shared::flags::routes::openapi());
    doc
}

pub fn router(state: AppState) -> Router {
    let flags = shared::flags::routes::router(state.clone());
    let quizzes = Arc::new(Quizzes::new(&state.config));
    let state = QuizState {
        app: state,
        quizzes,
    };
    Router::new()
        .merge(quizzes::router(&state))
        .merge(attempts::router())
        .merge(stats::router())
        .with_state(state)
        .merge(flags)
}

/// A path id: not a UUID means no such quiz.
fn quiz_id(raw: &str) -> Result<uuid::Uuid, shared::Error> {
    uuid::Uuid::parse_str(raw).map_err(|_| shared::Error::NotFound)
}
