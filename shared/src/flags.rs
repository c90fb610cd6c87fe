//! Feature flags: named in code with their defaults, overridden durably in
//! Postgres (`feature_flags`, every change audited), read through a short
//! in-process cache. Every `FLAGS_REFRESH` an instance that reads a flag looks
//! at one Redis key (the flags' version, bumped by every change) and reloads
//! from Postgres only when it moved, so a change reaches every instance within
//! seconds at the cost of one GET per instance per interval. Redis down: the
//! last values stay (never the defaults), and the first good look after an
//! outage reloads, in case a change was made meanwhile. Boolean and
//! percentage-of-users rollouts (a stable hash of flag name and user id).

pub mod routes;
pub mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::kv::{Kv, KvError};

/// The Redis key holding the flags' version.
pub const VERSION_KEY: &str = "flags:version";

/// Every flag folio knows, with its default when no row overrides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// The LLM quiz generator (`generator=llm`, topic sources, `auto` picking the LLM).
    LlmQuiz,
    /// Asynchronous OCR (`mode=async`, and `mode=auto` beyond the sync limit).
    AsyncOcr,
    /// `GET /v1/ocr/documents/{id}/pdf`.
    SearchablePdf,
    /// The sessions API (`/v1/sessions`, logout, logout-all).
    Sessions,
}

impl Flag {
    pub const ALL: [Flag; 4] = [
        Flag::LlmQuiz,
        Flag::AsyncOcr,
        Flag::SearchablePdf,
        Flag::Sessions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Flag::LlmQuiz => "llm_quiz",
            Flag::AsyncOcr => "async_ocr",
            Flag::SearchablePdf => "searchable_pdf",
            Flag::Sessions => "sessions",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Flag::LlmQuiz => {
                "the LLM quiz generator (off: quizzes use the extractive generator; topic sources are refused)"
            }
            Flag::AsyncOcr => {
                "asynchronous OCR jobs (off: mode=async is refused and mode=auto answers synchronously or refuses)"
            }
            Flag::SearchablePdf => "GET /v1/ocr/documents/{id}/pdf",
            Flag::Sessions => "the sessions API: /v1/sessions, logout and logout-all",
        }
    }

    /// Every flag is on unless a row says otherwise.
    pub fn default_enabled(self) -> bool {
        true
    }

    pub fn parse(name: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A flag's stored setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub enabled: bool,
    /// 0–100: the share of users it is on for, when enabled.
    pub rollout_percent: u8,
}

impl Setting {
    /// Whether the flag is on for `user` (`None`: a caller without a user, on
    /// only at 100 %).
    pub fn on_for(&self, flag: Flag, user: Option<&str>) -> bool {
        if !self.enabled {
            return false;
        }
        match (self.rollout_percent, user) {
            (100.., _) => true,
            (0, _) | (_, None) => false,
            (percent, Some(user)) => bucket(flag, user) < percent,
        }
    }
}

/// The user's stable bucket (0–99) for `flag`: the same user always lands in
/// the same bucket, and different flags cut the users differently.
pub fn bucket(flag: Flag, user: &str) -> u8 {
    let digest = Sha256::new()
        .chain_update(flag.name().as_bytes())
        .chain_update([0])
        .chain_update(user.as_bytes())
        .finalize();
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(head) % 100) as u8
}

/// The 422 `feature-disabled` problem for `flag`.
pub fn disabled(flag: Flag) -> crate::Error {
    crate::Error::unprocessable(
        "feature-disabled",
        format!(
            "the feature `{}` ({}) is turned off for this account",
            flag.name(),
            flag.description()
        ),
    )
}

/// What an instance last loaded.
#[derive(Debug, Default)]
struct Snapshot {
    /// `None` until the first load from Postgres succeeds.
    settings: Option<HashMap<Flag, Setting>>,
    /// The Redis version the settings were loaded under (`None`: absent key).
    version: Option<Vec<u8>>,
    checked_at: Option<Instant>,
    /// The last look at Redis failed: reload on the next good one.
    redis_failed: bool,
}

/// The flags of one process: cheap to clone, shared by every handler.
#[derive(Clone)]
pub struct Flags {
    db: PgPool,
    kv: Kv,
    refresh: Duration,
    snapshot: Arc<Mutex<Snapshot>>,
    /// One refresh at a time; the others read the last values meanwhile.
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl Flags {
    pub fn new(db: PgPool, kv: Kv, refresh: Duration) -> Flags {
        Flags {
            db,
            kv,
            refresh,
            snapshot: Arc::default(),
            refreshing: Arc::default(),
        }
    }

    /// Whether `flag` is on for `user`, from values at most `FLAGS_REFRESH`
    /// old while Redis and Postgres answer; the last known values (or the
    /// defaults, before the first load) when they do not. Never fails.
    pub async fn enabled(&self, flag: Flag, user: Option<&str>) -> bool {
        self.refresh_if_due().await;
        self.setting(flag).on_for(flag, user)
    }

    /// `Ok` when `flag` is on for `user`, else 422 `feature-disabled` naming it.
    pub async fn require(&self, flag: Flag, user: &str) -> Result<(), crate::Error> {
        if self.enabled(flag, Some(user)).await {
            Ok(())
        } else {
            Err(disabled(flag))
        }
    }

    /// The setting in force now (without refreshing).
    pub fn setting(&self, flag: Flag) -> Setting {
        let snapshot = self.snapshot.lock().unwrap_or_else(|e| e.into_inner());
        snapshot
            .settings
            .as_ref()
            .and_then(|s| s.get(&flag).cloned())
            .unwrap_or(Setting {
                enabled: flag.default_enabled(),
                rollout_percent: 100,
            })
    }

    fn due(&self) -> bool {
        let snapshot = self.snapshot.lock().unwrap_or_else(|e| e.into_inner());
        snapshot.settings.is_none()
            || snapshot
                .checked_at
                .is_none_or(|at| at.elapsed() >= self.refresh)
    }

    async fn refresh_if_due(&self) {
        if !self.due() {
            return;
        }
        let loaded = {
            let snapshot = self.snapshot.lock().unwrap_or_else(|e| e.into_inner());
            snapshot.settings.is_some()
        };
        // Before the first load every reader waits for it (a cold start must
        // not answer a switched-off flag with its default); after it, readers
        // use the last values while one of them looks.
        let _turn = if loaded {
            match self.refreshing.try_lock() {
                Ok(turn) => turn,
                Err(_) => return,
            }
        } else {
            self.refreshing.lock().await
        };
        if !self.due() {
            return;
        }
        self.refresh().await;
    }

    /// Looks at the version key and reloads from Postgres when it moved (or
    /// nothing is loaded yet, or Redis just came back).
    pub async fn refresh(&self) {
        let version = match self.kv.get(VERSION_KEY).await {
            Ok(version) => Ok(version),
            Err(KvError::Disabled) => Ok(None),
            Err(e) => Err(e),
        };
        let reload = {
            let mut snapshot = self.snapshot.lock().unwrap_or_else(|e| e.into_inner());
            snapshot.checked_at = Some(Instant::now());
            match &version {
                Err(e) => {
                    if !snapshot.redis_failed {
                        tracing::warn!(error = %e, "redis unavailable for the feature flags; keeping the last values");
                    }
                    snapshot.redis_failed = true;
                    // Nothing loaded yet: Postgres alone is better than the defaults.
                    snapshot.settings.is_none()
                }
                Ok(version) => {
                    let came_back = std::mem::take(&mut snapshot.redis_failed);
                    snapshot.settings.is_none() || came_back || *version != snapshot.version
                }
            }
        };
        if !reload {
            return;
        }
        match store::load(&self.db).await {
            Ok(settings) => {
                let mut snapshot = self.snapshot.lock().unwrap_or_else(|e| e.into_inner());
                snapshot.settings = Some(settings);
                if let Ok(version) = version {
                    snapshot.version = version;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not load the feature flags; keeping the last values");
                // Try again at the next look rather than waiting for a new version.
                let mut snapshot = self.snapshot.lock().unwrap_or_else(|e| e.into_inner());
                snapshot.redis_failed = true;
            }
        }
    }

    /// Tells every instance that the flags changed (bumps the version key).
    /// Redis down: the change is stored; instances see it once Redis is back.
    pub async fn announce(&self) {
        match self.kv.incr_by(VERSION_KEY, 1).await {
            Ok(_) | Err(KvError::Disabled) => {}
            Err(e) => tracing::warn!(
                error = %e,
                "could not announce a flag change in redis; instances keep their values until it is back"
            ),
        }
    }

    /// Drops the cached values' age so the next read looks again (after a
    /// change made by this instance).
    pub fn expire(&self) {
        let mut snapshot = self.snapshot.lock().unwrap_or_else(|e| e.into_inner());
        snapshot.checked_at = None;
        snapshot.version = Some(b"-".to_vec());
    }

    pub fn db(&self) -> &PgPool {
        &self.db
    }
}
