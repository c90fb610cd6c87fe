//! The admin API of the feature flags (admin role only; every change audited):
//! `GET /v1/admin/flags`, `GET /v1/admin/flags/{name}` (with its recent
//! changes), `PUT /v1/admin/flags/{name}` `{"enabled": true, "rollout_percent": 25}`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::{self, Change, Row};
use super::{Flag, Setting};
use crate::auth::AdminUser;
use crate::{AppState, Error};

/// The admin API's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi as _;
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(list_flags, get_flag, put_flag))]
    struct Doc;
    Doc::openapi()
}

/// Changes shown with one flag.
const CHANGES_SHOWN: i64 = 20;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/admin/flags", get(list_flags))
        .route("/v1/admin/flags/{name}", get(get_flag).put(put_flag))
        .with_state(state)
}

/// A flag as the admin API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlagView {
    name: &'static str,
    description: &'static str,
    enabled: bool,
    rollout_percent: u8,
    /// The flag's value in code, in force while no change was stored.
    default_enabled: bool,
    /// `null` while the flag has its default.
    updated_by: Option<String>,
    updated_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changes: Option<Vec<Change>>,
}

fn view(flag: Flag, row: Option<&Row>) -> FlagView {
    FlagView {
        name: flag.name(),
        description: flag.description(),
        enabled: row.map_or(flag.default_enabled(), |r| r.enabled),
        rollout_percent: row.map_or(100, |r| r.rollout_percent),
        default_enabled: flag.default_enabled(),
        updated_by: row.map(|r| r.updated_by.clone()),
        updated_at: row.map(|r| r.updated_at),
        changes: None,
    }
}

fn known(name: &str) -> Result<Flag, Error> {
    Flag::parse(name).ok_or(Error::NotFound)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct FlagList {
    flags: Vec<FlagView>,
}

/// Every flag with its setting in force.
#[utoipa::path(
    get,
    path = "/v1/admin/flags",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "every flag", body = FlagList),
        (status = 403, description = "`forbidden`: the token lacks the admin role", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
async fn list_flags(
    State(state): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<FlagList>, Error> {
    let rows = store::rows(&state.db).await?;
    let flags = Flag::ALL
        .into_iter()
        .map(|flag| view(flag, rows.get(flag.name())))
        .collect();
    Ok(Json(FlagList { flags }))
}

/// One flag, with its recent changes (who and when).
#[utoipa::path(
    get,
    path = "/v1/admin/flags/{name}",
    tag = "admin",
    params(("name" = String, Path, description = "the flag's name")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the flag and its recent changes", body = FlagView),
        (status = 403, description = "`forbidden`: the token lacks the admin role", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no flag of that name", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
async fn get_flag(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(name): Path<String>,
) -> Result<Json<FlagView>, Error> {
    let flag = known(&name)?;
    let rows = store::rows(&state.db).await?;
    let mut view = view(flag, rows.get(flag.name()));
    view.changes = Some(store::changes(&state.db, flag, CHANGES_SHOWN).await?);
    Ok(Json(view))
}

/// `PUT` body: `enabled` is required; `rollout_percent` (0–100) defaults to 100.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutFlag {
    enabled: bool,
    #[serde(default)]
    rollout_percent: Option<i64>,
}

/// Changes a flag; every instance follows within `FLAGS_REFRESH`.
#[utoipa::path(
    put,
    path = "/v1/admin/flags/{name}",
    tag = "admin",
    params(("name" = String, Path, description = "the flag's name")),
    request_body = PutFlag,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the flag as changed", body = FlagView),
        (status = 403, description = "`forbidden`: the token lacks the admin role", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found`: no flag of that name", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-flag` or `invalid-body`", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
async fn put_flag(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(name): Path<String>,
    Json(body): Json<PutFlag>,
) -> Result<Json<FlagView>, Error> {
    let flag = known(&name)?;
    let percent = body.rollout_percent.unwrap_or(100);
    let rollout_percent = u8::try_from(percent)
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| {
            Error::unprocessable(
                "invalid-flag",
                format!("rollout_percent must be between 0 and 100, not {percent}"),
            )
        })?;
    let setting = Setting {
        enabled: body.enabled,
        rollout_percent,
    };
    let row = store::put(&state.db, flag, &setting, &admin.user_id).await?;
    tracing::info!(
        flag = flag.name(),
        enabled = setting.enabled,
        rollout_percent,
        admin = %admin.user_id,
        "feature flag changed"
    );
    state.flags.announce().await;
    state.flags.expire();
    Ok(Json(view(flag, Some(&row))))
}
