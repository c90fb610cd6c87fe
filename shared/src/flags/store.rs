//! The flags' SQL: the overriding rows and the audit trail of their changes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use sqlx::types::Json;

use super::{Flag, Setting};
use crate::Error;

/// A stored row: the setting and who made it.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub enabled: bool,
    pub rollout_percent: u8,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// One audited change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub enabled: bool,
    pub rollout_percent: u8,
    /// The setting before the change (`null` when the flag had its default).
    #[schema(value_type = Option<Object>)]
    pub previous: Option<serde_json::Value>,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

type ChangeTuple = (
    bool,
    i16,
    Option<Json<serde_json::Value>>,
    String,
    DateTime<Utc>,
);

fn percent(v: i16) -> u8 {
    u8::try_from(v.clamp(0, 100)).unwrap_or(100)
}

/// Every known flag's stored setting (flags without a row are absent; rows of
/// flags this build does not know are ignored).
pub async fn load(pool: &PgPool) -> Result<HashMap<Flag, Setting>, Error> {
    let mut db = crate::db::unit(pool).await?;
    let rows: Vec<(String, bool, i16)> =
        crate::db::query_as("SELECT name, enabled, rollout_percent FROM feature_flags")
            .fetch_all(&mut *db)
            .await?;
    db.commit().await?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, enabled, p)| {
            Flag::parse(&name).map(|flag| {
                (
                    flag,
                    Setting {
                        enabled,
                        rollout_percent: percent(p),
                    },
                )
            })
        })
        .collect())
}

/// Every stored row by name.
pub async fn rows(pool: &PgPool) -> Result<HashMap<String, Row>, Error> {
    let mut db = crate::db::unit(pool).await?;
    let rows: Vec<(String, bool, i16, String, DateTime<Utc>)> = crate::db::query_as(
        "SELECT name, enabled, rollout_percent, updated_by, updated_at FROM feature_flags",
    )
    .fetch_all(&mut *db)
    .await?;
    db.commit().await?;
    Ok(rows
        .into_iter()
        .map(|(name, enabled, p, updated_by, updated_at)| {
            (
                name,
                Row {
                    enabled,
                    rollout_percent: percent(p),
                    updated_by,
                    updated_at,
                },
            )
        })
        .collect())
}

/// The last `limit` changes of `flag`, newest first.
pub async fn changes(pool: &PgPool, flag: Flag, limit: i64) -> Result<Vec<Change>, Error> {
    let mut db = crate::db::unit(pool).await?;
    let rows: Vec<ChangeTuple> = crate::db::query_as(
        "SELECT enabled, rollout_percent, previous, changed_by, changed_at
               FROM feature_flag_changes WHERE name = $1
              ORDER BY changed_at DESC, id DESC LIMIT $2",
    )
    .bind(flag.name())
    .bind(limit)
    .fetch_all(&mut *db)
    .await?;
    db.commit().await?;
    Ok(rows
        .into_iter()
        .map(|(enabled, p, previous, changed_by, changed_at)| Change {
            enabled,
            rollout_percent: percent(p),
            previous: previous.map(|Json(v)| v),
            changed_by,
            changed_at,
        })
        .collect())
}

/// Stores `setting` for `flag` as `by`'s change, with its audit row, in one
/// transaction.
pub async fn put(pool: &PgPool, flag: Flag, setting: &Setting, by: &str) -> Result<Row, Error> {
    let mut db = crate::db::unit(pool).await?;
    let previous: Option<(bool, i16)> = crate::db::query_as(
        "SELECT enabled, rollout_percent FROM feature_flags WHERE name = $1 FOR UPDATE",
    )
    .bind(flag.name())
    .fetch_optional(&mut *db)
    .await?;
    let (updated_by, updated_at): (String, DateTime<Utc>) = crate::db::query_as(
        "INSERT INTO feature_flags (name, enabled, rollout_percent, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (name) DO UPDATE
            SET enabled = EXCLUDED.enabled, rollout_percent = EXCLUDED.rollout_percent,
                updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at
         RETURNING updated_by, updated_at",
    )
    .bind(flag.name())
    .bind(setting.enabled)
    .bind(i16::from(setting.rollout_percent))
    .bind(by)
    .fetch_one(&mut *db)
    .await?;
    let previous = previous.map(|(enabled, p)| {
        Json(serde_json::json!({"enabled": enabled, "rollout_percent": percent(p)}))
    });
    crate::db::query(
        "INSERT INTO feature_flag_changes (name, enabled, rollout_percent, previous, changed_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(flag.name())
    .bind(setting.enabled)
    .bind(i16::from(setting.rollout_percent))
    .bind(previous)
    .bind(by)
    .execute(&mut *db)
    .await?;
    db.commit().await?;
    Ok(Row {
        enabled: setting.enabled,
        rollout_percent: setting.rollout_percent,
        updated_by,
        updated_at,
    })
}
