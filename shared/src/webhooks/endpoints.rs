//! Users' webhook registrations: one per user, a URL (optional: the secret
//! alone signs per-job callbacks) and the secret.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;

use super::sign::generate_secret;

/// A registration as its owner sees it; the secret only when just made.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Endpoint {
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Shown once: at creation and when rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    pub created: bool,
}

/// Creates or updates `owner`'s registration. A new secret is made at
/// creation and when `rotate` is set; otherwise the secret stays.
pub async fn put(
    db: impl PgExecutor<'_>,
    owner: &str,
    url: Option<&str>,
    rotate: bool,
) -> Result<Endpoint, sqlx::Error> {
    let fresh = generate_secret();
    crate::db::query_as(
        "INSERT INTO webhook_endpoints (owner_id, url, secret) VALUES ($1, $2, $3)
         ON CONFLICT (owner_id) DO UPDATE
         SET url = EXCLUDED.url,
             secret = CASE WHEN $4 THEN EXCLUDED.secret ELSE webhook_endpoints.secret END,
             updated_at = now()
         RETURNING url, created_at, updated_at,
                   CASE WHEN secret = $3 THEN secret END AS secret,
                   (xmax = 0) AS created",
    )
    .bind(owner)
    .bind(url)
    .bind(&fresh)
    .bind(rotate)
    .fetch_one(db)
    .await
}

/// `owner`'s registration, without its secret.
pub async fn get(db: impl PgExecutor<'_>, owner: &str) -> Result<Option<Endpoint>, sqlx::Error> {
    crate::db::query_as(
        "SELECT url, created_at, updated_at, NULL::text AS secret, false AS created
         FROM webhook_endpoints WHERE owner_id = $1",
    )
    .bind(owner)
    .fetch_optional(db)
    .await
}

/// Removes `owner`'s registration; webhooks not yet delivered are dropped.
pub async fn delete(db: impl PgExecutor<'_>, owner: &str) -> Result<bool, sqlx::Error> {
    let done = crate::db::query("DELETE FROM webhook_endpoints WHERE owner_id = $1")
        .bind(owner)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The secret deliveries to `owner` are signed with.
pub async fn secret(db: impl PgExecutor<'_>, owner: &str) -> Result<Option<String>, sqlx::Error> {
    crate::db::query_scalar("SELECT secret FROM webhook_endpoints WHERE owner_id = $1")
        .bind(owner)
        .fetch_optional(db)
        .await
}
