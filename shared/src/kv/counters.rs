//! Usage counters: a running total per name and a per-day hash of every
//! name's count (kept `DAY_TTL`), bumped together in one round trip.
//! Best-effort like all of Redis: a failed bump loses a count, never a request.
//!
//! ```ignore
//! kv::counters::bump(&kv, "ocr.pages", pages).await.ok();
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;

use super::{Cmd, Kv, KvError, Reply};

/// How long a day's hash is kept after its last bump.
pub const DAY_TTL: Duration = Duration::from_secs(40 * 24 * 3600);

fn total_key(name: &str) -> String {
    format!("count:{name}")
}

fn day_key(day: NaiveDate) -> String {
    format!("count:day:{}", day.format("%Y-%m-%d"))
}

/// Adds `by` to `name`'s total and to today's (UTC) count; returns the new total.
pub async fn bump(kv: &Kv, name: &str, by: i64) -> Result<i64, KvError> {
    bump_on(kv, chrono::Utc::now().date_naive(), name, by).await
}

/// `bump` for a given day (tests, backfills).
pub async fn bump_on(kv: &Kv, day: NaiveDate, name: &str, by: i64) -> Result<i64, KvError> {
    let day = kv.key(&day_key(day));
    let replies = kv
        .pipeline(
            &[
                Cmd::new("INCRBY")
                    .arg(kv.key(&total_key(name)))
                    .arg(by.to_string()),
                Cmd::new("HINCRBY").arg(&day).arg(name).arg(by.to_string()),
                Cmd::new("PEXPIRE")
                    .arg(&day)
                    .arg(DAY_TTL.as_millis().to_string()),
            ],
            false,
        )
        .await?;
    let mut replies = replies.into_iter();
    let total = replies
        .next()
        .ok_or_else(|| KvError::Protocol("no INCRBY reply".into()))??;
    for reply in replies {
        reply?;
    }
    total
        .as_int()
        .ok_or_else(|| KvError::Protocol("INCRBY answered no integer".into()))
}

/// `name`'s running total (0 when never bumped).
pub async fn total(kv: &Kv, name: &str) -> Result<i64, KvError> {
    match kv
        .query(Cmd::new("GET").arg(kv.key(&total_key(name))))
        .await?
    {
        Reply::Nil => Ok(0),
        reply => reply
            .as_int()
            .ok_or_else(|| KvError::Protocol("a counter that is not an integer".into())),
    }
}

/// Every name's count for `day` (empty when nothing was bumped that day).
pub async fn day(kv: &Kv, day: NaiveDate) -> Result<BTreeMap<String, i64>, KvError> {
    let reply = kv
        .query(Cmd::new("HGETALL").arg(kv.key(&day_key(day))))
        .await?;
    let items = reply
        .into_array()
        .ok_or_else(|| KvError::Protocol("HGETALL answered no array".into()))?;
    let mut counts = BTreeMap::new();
    let mut items = items.into_iter();
    while let (Some(name), Some(count)) = (items.next(), items.next()) {
        let count = count
            .as_int()
            .ok_or_else(|| KvError::Protocol("a day count that is not an integer".into()))?;
        let name = name
            .into_bytes()
            .ok_or_else(|| KvError::Protocol("a counter name that is not a string".into()))?;
        counts.insert(String::from_utf8_lossy(&name).into_owned(), count);
    }
    Ok(counts)
}
