//! What every handler can reach: configuration, the Postgres pool, the Redis
//! handle and the authenticator. Built once per cold start, never per request.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::auth::sessions::{Clock, Sessions};
use crate::auth::tick::TickAuth;
use crate::auth::{AuthState, Authenticator};
use crate::config::Config;
use crate::flags::Flags;
use crate::kv::Kv;
use crate::limits::RateLimiter;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: PgPool,
    pub kv: Kv,
    /// Per-process limiter state (the in-process memory of refused callers).
    pub limiter: RateLimiter,
    pub auth: Option<Arc<Authenticator>>,
    /// Who may trigger a worker tick (shared token, Google OIDC).
    pub tick_auth: Arc<TickAuth>,
    /// Feature flags, cached per process (see `flags`).
    pub flags: Flags,
}

impl AppState {
    /// Prepares every client without touching the network, so a cold start
    /// stays fast and a dependency that is down is reported, not fatal.
    pub fn new(config: Config) -> anyhow::Result<AppState> {
        let db = crate::db::pool(&config.database)?;
        let kv = Kv::from_config(&config.redis)?;
        let limiter = RateLimiter::new(kv.clone(), config.rate_limit.clone());
        let auth = config
            .jwt
            .as_ref()
            .map(|jwt| {
                let sessions = config.sessions.enabled.then(|| {
                    Arc::new(Sessions::new(
                        db.clone(),
                        kv.clone(),
                        config.sessions.clone(),
                        Clock::system(),
                    ))
                });
                Authenticator::new(jwt).map(|a| a.with_sessions(&config.sessions, sessions))
            })
            .transpose()?
            .map(Arc::new);
        let tick_auth = Arc::new(TickAuth::new(&config)?);
        let flags = Flags::new(db.clone(), kv.clone(), config.flags_refresh);
        Ok(AppState {
            config: Arc::new(config),
            db,
            kv,
            limiter,
            auth,
            tick_auth,
            flags,
        })
    }
}

impl FromRef<AppState> for AuthState {
    fn from_ref(state: &AppState) -> Self {
        AuthState(state.auth.clone())
    }
}
