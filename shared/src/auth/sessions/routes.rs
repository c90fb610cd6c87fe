//! `/v1/sessions`: the caller's live sessions, logout and logout-all. Mounted
//! by `shared::start` beside the routes of every function that takes user
//! tokens (ocr, quiz, the local gateway), so each answers them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Sessions;
use crate::auth::AuthUser;
use crate::error::Error;
use crate::flags::Flag;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/sessions", get(list_sessions))
        .route("/v1/sessions/logout", post(logout))
        .route("/v1/sessions/logout-all", post(logout_all))
        .with_state(state)
}

/// The document of these routes (merged by `shared::assemble`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(list_sessions, logout, logout_all))]
    struct Doc;
    Doc::openapi()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub session_id: String,
    pub current: bool,
    /// A short hint from the `User-Agent` first seen (`Firefox on Linux`).
    pub device: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionsResponse {
    pub sessions: Vec<SessionView>,
}

fn sessions(state: &AppState) -> Result<&Arc<Sessions>, Error> {
    state
        .auth
        .as_ref()
        .and_then(|a| a.sessions())
        .ok_or_else(|| {
            Error::unprocessable(
                "sessions-disabled",
                "sessions are not enabled on this server",
            )
        })
}

fn current(user: &AuthUser) -> Result<&str, Error> {
    user.session_id.as_deref().ok_or_else(|| {
        Error::unprocessable(
            "no-session",
            "the token names no session (no sid or jti claim)",
        )
    })
}

/// The caller's live sessions, most recent first (at most 100).
#[utoipa::path(
    get,
    path = "/v1/sessions",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the caller's live sessions", body = SessionsResponse),
        (status = 422, description = "`sessions-disabled`", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
async fn list_sessions(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<SessionsResponse>, Error> {
    state.flags.require(Flag::Sessions, &user.user_id).await?;
    let rows = sessions(&state)?.list(&user.user_id).await?;
    let sessions = rows
        .into_iter()
        .map(|r| SessionView {
            current: user.session_id.as_deref() == Some(r.session_id.as_str()),
            device: device_hint(r.user_agent.as_deref()),
            session_id: r.session_id,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
        })
        .collect();
    Ok(Json(SessionsResponse { sessions }))
}

/// Ends the caller's session at once, on every instance.
#[utoipa::path(
    post,
    path = "/v1/sessions/logout",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "the session ended"),
        (status = 422, description = "`no-session` (the token names no session), `sessions-disabled`", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
async fn logout(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode, Error> {
    state.flags.require(Flag::Sessions, &user.user_id).await?;
    sessions(&state)?
        .logout(&user.user_id, current(&user)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller begun before now.
#[utoipa::path(
    post,
    path = "/v1/sessions/logout-all",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "every session ended"),
        (status = 422, description = "`sessions-disabled`", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
async fn logout_all(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode, Error> {
    state.flags.require(Flag::Sessions, &user.user_id).await?;
    sessions(&state)?.logout_all(&user.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `Browser on OS` from a User-Agent, or `unknown device`.
pub fn device_hint(agent: Option<&str>) -> String {
    let Some(ua) = agent.filter(|a| !a.trim().is_empty()) else {
        return "unknown device".to_owned();
    };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("okhttp", "Android app"),
        ("CFNetwork", "iOS app"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("unknown client", |(_, name)| name);
    let os = [
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::device_hint;

    #[test]
    fn device_hints_name_browser_and_system() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(device_hint(Some(firefox)), "Firefox on Linux");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(device_hint(Some(safari)), "Safari on iOS");
        assert_eq!(device_hint(Some("curl/8.5.0")), "curl");
        assert_eq!(device_hint(None), "unknown device");
    }
}
