//! `PUT/GET/DELETE /v1/webhooks`: the caller's webhook registration. PUT
//! answers the secret (`whsec_…`) when it is made (first PUT, or
//! `"rotate_secret": true`) and never again.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::auth::AuthUser;
use shared::fetch::Fetcher;
use shared::webhooks::endpoints;
use shared::{AppState, Error};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutWebhook {
    /// Where every finished job of the caller is announced; absent or null
    /// for a secret that only signs per-job callbacks.
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    rotate_secret: bool,
}

/// Registers (or changes) the caller's webhook; makes its signing secret.
#[utoipa::path(
    put,
    path = "/v1/webhooks",
    tag = "webhooks",
    request_body = PutWebhook,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "registered; `secret` is shown this once", body = endpoints::Endpoint),
        (status = 200, description = "changed; `secret` only when rotated", body = endpoints::Endpoint),
        (status = 400, description = "`bad-request`: not the body above", body = shared::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-url` or `url-refused` (the SSRF guard)", body = shared::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    body: Result<Json<PutWebhook>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Error> {
    let Json(body) = body.map_err(|e| {
        Error::BadRequest(format!(
            "the body must be {{\"url\": \"https://...\" or null, \"rotate_secret\": false}}: {}",
            e.body_text()
        ))
    })?;
    let url = match body.url.as_deref().map(str::trim) {
        None => None,
        Some(raw) => Some(
            Fetcher::new(&state.config.fetch)
                .check(raw)
                .await?
                .to_string(),
        ),
    };
    let endpoint =
        endpoints::put(&state.db, &user.user_id, url.as_deref(), body.rotate_secret).await?;
    let status = if endpoint.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(endpoint)).into_response())
}

/// The caller's webhook registration (never its secret).
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the registration", body = endpoints::Endpoint),
        (status = 404, description = "`not-found`: none registered", body = shared::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_webhook(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<endpoints::Endpoint>, Error> {
    endpoints::get(&state.db, &user.user_id)
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}

/// Removes the caller's webhook; per-job callbacks can no longer be signed.
#[utoipa::path(
    delete,
    path = "/v1/webhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "removed"),
        (status = 404, description = "`not-found`: none registered", body = shared::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<StatusCode, Error> {
    if endpoints::delete(&state.db, &user.user_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}
