//! Sessions of callers' tokens: idle timeout, maximum age, logout and
//! logout-all. A request costs one Redis round trip (one script reads the
//! session and the user's not-before mark, judges, and touches last-seen);
//! Postgres is read only when Redis has no copy (new session, eviction,
//! flush) and written at most once per `SESSION_PERSIST_EVERY` per session,
//! off the request. Revocations are written to Postgres first, so a Redis
//! that loses its data cannot bring a revoked session back.

pub mod routes;
pub mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, header};
use chrono::{DateTime, TimeZone, Utc};
use sqlx::PgPool;

use super::Identity;
use crate::config::SessionConfig;
use crate::error::Error;
use crate::kv::{Cmd, Kv, Script};

/// Reads, judges and touches a session in one round trip. Codes: 0 = Redis
/// has no copy, 1 = live (second item: 1 when last-seen is due in Postgres),
/// 2 = logged out, 3 = too old, 4 = idle too long.
pub(crate) const CHECK_SOURCE: &str = r"
local s = redis.call('HMGET', KEYS[1], 'first', 'last', 'rev', 'saved')
if s[3] == '1' then return {2, 0} end
local mark = redis.call('GET', KEYS[2])
if not s[1] or not mark then return {0, 0} end
local now = tonumber(ARGV[1])
local first = tonumber(s[1])
local m = tonumber(mark)
local iat = tonumber(ARGV[5])
if m > 0 and (first < m or (iat >= 0 and iat < m)) then return {2, 0} end
if now - first > tonumber(ARGV[3]) then return {3, 0} end
if now - tonumber(s[2] or s[1]) > tonumber(ARGV[2]) then return {4, 0} end
if now - tonumber(s[4] or '0') >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'last', ARGV[1], 'saved', ARGV[1])
  return {1, 1}
end
redis.call('HSET', KEYS[1], 'last', ARGV[1])
return {1, 0}
";

/// Unix milliseconds; a test can hold and move it.
#[derive(Clone)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stands still until moved through the returned handle.
    pub fn manual(start_ms: i64) -> (Clock, Arc<AtomicI64>) {
        let now = Arc::new(AtomicI64::new(start_ms));
        (Clock(Some(now.clone())), now)
    }

    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            Some(now) => now.load(Ordering::SeqCst),
            None => Utc::now().timestamp_millis(),
        }
    }
}

pub struct Sessions {
    db: PgPool,
    kv: Kv,
    config: SessionConfig,
    clock: Clock,
    check: Script,
}

enum Verdict {
    Live,
    Revoked,
    TooOld,
    Idle,
}

impl Sessions {
    pub fn new(db: PgPool, kv: Kv, config: SessionConfig, clock: Clock) -> Sessions {
        Sessions {
            db,
            kv,
            config,
            clock,
            check: Script::new(CHECK_SOURCE),
        }
    }

    /// Both keys of a user carry the same `{tag}` (a digest of the user id,
    /// so no character of the id can end the tag early): the check script
    /// touches both, and a cluster (or Upstash's key locking) wants them in
    /// one hash slot.
    fn user_tag(user: &str) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(user.as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    fn session_key(user: &str, session: &str) -> String {
        let tag = Self::user_tag(user);
        format!("auth:sess:{{{tag}}}:{}:{user}:{session}", user.len())
    }

    fn mark_key(user: &str) -> String {
        format!("auth:nb:{{{}}}", Self::user_tag(user))
    }

    fn ttl(&self) -> Duration {
        self.config.max_age + Duration::from_secs(60)
    }

    /// Judges the caller's session and records the request. Returns the
    /// session id (None when the token names none and sessions are optional).
    pub async fn check(
        &self,
        who: &Identity,
        headers: &HeaderMap,
    ) -> Result<Option<String>, Error> {
        let Some(session) = who.session_id.as_deref() else {
            if self.config.required {
                return Err(Error::Unauthorized("the token names no session".into()));
            }
            return Ok(None);
        };
        let now = self.clock.now_ms();
        // `iat` has whole seconds: read it as the end of its second, so a login
        // in the same second as a logout-all is not taken for an older one.
        let iat = who
            .issued_at
            .map_or(-1, |s| s.saturating_mul(1000).saturating_add(999));
        let keys = [
            Self::session_key(&who.user_id, session),
            Self::mark_key(&who.user_id),
        ];
        let args = [
            now.to_string(),
            self.config.idle_timeout.as_millis().to_string(),
            self.config.max_age.as_millis().to_string(),
            self.config.persist_every.as_millis().to_string(),
            iat.to_string(),
        ];
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let reply = self
            .kv
            .eval(&self.check, &[&keys[0], &keys[1]], &args)
            .await
            .map(|r| r.into_array().unwrap_or_default());
        let verdict = match reply.as_deref() {
            Ok([code, persist]) => match code.as_int() {
                Some(1) => {
                    if persist.as_int() == Some(1) {
                        self.persist_later(&who.user_id, session, now);
                    }
                    Verdict::Live
                }
                Some(2) => Verdict::Revoked,
                Some(3) => Verdict::TooOld,
                Some(4) => Verdict::Idle,
                _ => {
                    self.ask_postgres(who, session, headers, now, iat, true)
                        .await?
                }
            },
            Ok(_) | Err(_) => {
                if let Err(e) = &reply {
                    tracing::warn!(error = %e, "redis unavailable for sessions; asking postgres");
                }
                let redis_up = reply.is_ok();
                if !redis_up && !self.config.idle_fail_open {
                    return Err(Error::Unavailable {
                        what: "session tracking",
                        retry_after: Duration::from_secs(5),
                    });
                }
                self.ask_postgres(who, session, headers, now, iat, redis_up)
                    .await?
            }
        };
        match verdict {
            Verdict::Live => Ok(Some(session.to_owned())),
            Verdict::Revoked => Err(Error::SessionExpired(
                "the session has been logged out".into(),
            )),
            Verdict::TooOld => Err(Error::SessionExpired(
                "the session has reached its maximum age".into(),
            )),
            Verdict::Idle => Err(Error::SessionExpired(
                "the session was idle for too long".into(),
            )),
        }
    }

    /// The slow path: Postgres decides, and Redis gets a copy (when up).
    async fn ask_postgres(
        &self,
        who: &Identity,
        session: &str,
        headers: &HeaderMap,
        now: i64,
        iat: i64,
        redis_up: bool,
    ) -> Result<Verdict, Error> {
        let agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|a| a.chars().take(300).collect::<String>());
        let (row, mark, _created) =
            store::load_or_create(&self.db, &who.user_id, session, agent.as_deref(), at(now))
                .await?;
        let first = row.first_seen.timestamp_millis();
        let last = row.last_seen.timestamp_millis().max(first);
        let mark_ms = mark.map_or(0, |m| m.timestamp_millis());
        let verdict = if row.revoked_at.is_some()
            || (mark_ms > 0 && (first < mark_ms || (iat >= 0 && iat < mark_ms)))
        {
            Verdict::Revoked
        } else if now - first > millis(self.config.max_age) {
            Verdict::TooOld
        } else if redis_up && now - last > millis(self.config.idle_timeout) {
            // Without Redis the exact last-seen is unknown: idle is not judged.
            Verdict::Idle
        } else {
            Verdict::Live
        };
        if redis_up {
            let live = matches!(verdict, Verdict::Live);
            self.cache(
                &who.user_id,
                session,
                first,
                if live { now } else { last },
                last,
                row.revoked_at.is_some(),
                mark_ms,
            )
            .await;
        }
        Ok(verdict)
    }

    /// Copies Postgres's view into Redis. Never clears a revocation or
    /// replaces a newer mark (a logout may race with this copy).
    #[expect(clippy::too_many_arguments, reason = "one row's fields")]
    async fn cache(
        &self,
        user: &str,
        session: &str,
        first: i64,
        last: i64,
        saved: i64,
        revoked: bool,
        mark: i64,
    ) {
        let key = self.kv.key(&Self::session_key(user, session));
        let ttl = self.ttl().as_millis().to_string();
        let mut set = Cmd::new("HSET")
            .arg(&key)
            .arg("first")
            .arg(first.to_string())
            .arg("last")
            .arg(last.to_string())
            .arg("saved")
            .arg(saved.to_string());
        if revoked {
            set = set.arg("rev").arg("1");
        }
        let cmds = [
            set,
            Cmd::new("PEXPIRE").arg(&key).arg(&ttl),
            Cmd::new("SET")
                .arg(self.kv.key(&Self::mark_key(user)))
                .arg(mark.to_string())
                .arg("PX")
                .arg(&ttl)
                .arg("NX"),
        ];
        if let Err(e) = self.kv.pipeline(&cmds, false).await {
            tracing::warn!(error = %e, "cannot cache a session in redis");
        }
    }

    fn persist_later(&self, user: &str, session: &str, now: i64) {
        let (db, user, session) = (self.db.clone(), user.to_owned(), session.to_owned());
        tokio::spawn(async move {
            if let Err(e) = store::touch(&db, &user, &session, at(now)).await {
                tracing::warn!(error = %e, "cannot record a session's last-seen time");
            }
        });
    }

    /// Ends one session: Postgres first, then Redis (503 if Redis could not
    /// be told while it is up: the caller retries; the logout is already durable).
    pub async fn logout(&self, user: &str, session: &str) -> Result<(), Error> {
        store::revoke(&self.db, user, session, at(self.clock.now_ms())).await?;
        let key = self.kv.key(&Self::session_key(user, session));
        let cmds = [
            Cmd::new("HSET").arg(&key).arg("rev").arg("1"),
            Cmd::new("PEXPIRE")
                .arg(&key)
                .arg(self.ttl().as_millis().to_string()),
        ];
        self.tell_redis(&cmds).await
    }

    /// Ends every session of `user` begun before now, in O(1): one mark.
    pub async fn logout_all(&self, user: &str) -> Result<(), Error> {
        let mark = store::revoke_all(&self.db, user, at(self.clock.now_ms())).await?;
        let cmds = [Cmd::new("SET")
            .arg(self.kv.key(&Self::mark_key(user)))
            .arg(mark.timestamp_millis().to_string())
            .arg("PX")
            .arg(self.ttl().as_millis().to_string())];
        self.tell_redis(&cmds).await
    }

    async fn tell_redis(&self, cmds: &[Cmd]) -> Result<(), Error> {
        match self.kv.pipeline(cmds, true).await {
            Ok(replies) if replies.iter().all(Result::is_ok) => Ok(()),
            // Redis down: every check falls back to Postgres, which has it.
            Err(e) if e.is_unavailable() => Ok(()),
            _ => Err(Error::Unavailable {
                what: "session tracking",
                retry_after: Duration::from_secs(1),
            }),
        }
    }

    /// The user's live sessions with their exact last-seen times.
    pub async fn list(&self, user: &str) -> Result<Vec<store::SessionRow>, Error> {
        let now = self.clock.now_ms();
        let mut rows = store::live(&self.db, user, at(now - millis(self.config.max_age))).await?;
        let cmds: Vec<Cmd> = rows
            .iter()
            .map(|r| {
                Cmd::new("HGET")
                    .arg(self.kv.key(&Self::session_key(user, &r.session_id)))
                    .arg("last")
            })
            .collect();
        if let Ok(replies) = self.kv.pipeline(&cmds, false).await {
            for (row, reply) in rows.iter_mut().zip(replies) {
                if let Some(ms) = reply.ok().and_then(|r| r.as_int()) {
                    row.last_seen = at(ms.max(row.last_seen.timestamp_millis()));
                }
            }
        }
        rows.retain(|r| now - r.last_seen.timestamp_millis() <= millis(self.config.idle_timeout));
        rows.sort_by_key(|r| std::cmp::Reverse(r.last_seen));
        Ok(rows)
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
}
