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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutWebhook {
    /// Where every finished job of the caller is announced; absent or null
    /// for a secret that only signs per-job callbacks.
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    rotate_secret: bool,
}

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

pub async fn get_webhook(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<endpoints::Endpoint>, Error> {
    endpoints::get(&state.db, &user.user_id)
        .await?
        .map(Json)
        .ok_or(Error::NotFound)
}

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
