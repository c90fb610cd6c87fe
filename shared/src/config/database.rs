//! Database settings: the URLs, pool limits, transport rules and which kind of
//! pooler (if any) sits between folio and Postgres.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::env::Env;
use super::is_loopback_host;

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// The request-path URL (may be a pooler's endpoint).
    pub url: SecretString,
    /// Where migrations go (Neon's direct endpoint); `url` when unset.
    pub direct_url: Option<SecretString>,
    /// What sits behind `url` (`DATABASE_POOLER`, detected when unset).
    pub pooler: Pooler,
    pub max_connections: u32,
    /// sqlx's per-connection cache of named statements (direct connections
    /// and session poolers only: a transaction pooler gets unnamed ones).
    pub statement_cache_capacity: usize,
    pub connect_timeout: Duration,
    /// How long a request waits for a connection (`DATABASE_ACQUIRE_TIMEOUT_SECS`,
    /// 3 s): while Postgres is down every waiting request answers 503 at this
    /// point, so it stays well under the 5 s a caller should ever wait for one.
    pub acquire_timeout: Duration,
    pub allow_insecure_transport: bool,
}

/// The kind of connection `DATABASE_URL` leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooler {
    /// A Postgres server, or a pooler in session mode: one server
    /// connection per client connection, so named statements are safe.
    None,
    /// A pooler in transaction mode (PgBouncer, Supavisor, Neon's `-pooler`
    /// endpoint, RDS Proxy): the server connection may change after every
    /// transaction. folio then names no statement and runs every unit of
    /// work inside one explicit transaction.
    Transaction,
}

impl Pooler {
    /// What a URL's host and port say, where that is unambiguous: Neon's
    /// `-pooler` endpoints and Supabase's transaction pooler (port 6543 on a
    /// Supabase host) are transaction poolers; everything else is taken as
    /// direct (set `DATABASE_POOLER=transaction` for other poolers).
    pub fn detect(url: &str) -> Pooler {
        let Ok(url) = Url::parse(url) else {
            return Pooler::None;
        };
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let first_label = host.split('.').next().unwrap_or_default();
        let neon = host.ends_with(".neon.tech") && first_label.ends_with("-pooler");
        let supabase = (host.ends_with(".supabase.com") || host.ends_with(".supabase.co"))
            && url.port() == Some(6543);
        if neon || supabase {
            Pooler::Transaction
        } else {
            Pooler::None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Pooler::None => "none",
            Pooler::Transaction => "transaction",
        }
    }
}

pub(super) fn database_config(env: &mut Env, allow_insecure_transport: bool) -> DatabaseConfig {
    let url = env
        .secret("DATABASE_URL")
        .or_else(|| env.secret("NEON_DATABASE_URL"));
    let url = match url {
        Some(url) => {
            check_database_url(env, "DATABASE_URL", &url, allow_insecure_transport);
            url
        }
        None => {
            env.missing("DATABASE_URL", "postgres:// URL (or set NEON_DATABASE_URL)");
            SecretString::from("")
        }
    };
    let direct_url = env.secret("DATABASE_DIRECT_URL");
    if let Some(direct) = &direct_url {
        check_database_url(env, "DATABASE_DIRECT_URL", direct, allow_insecure_transport);
    }
    let pooler = match env.string("DATABASE_POOLER").as_deref() {
        None | Some("auto") => Pooler::detect(url.expose_secret()),
        Some("none" | "session") => Pooler::None,
        Some("transaction") => Pooler::Transaction,
        Some(_) => {
            env.invalid(
                "DATABASE_POOLER",
                "must be `auto`, `none`, `session` or `transaction`",
            );
            Pooler::None
        }
    };
    DatabaseConfig {
        url,
        direct_url,
        pooler,
        max_connections: env.parse_or("DATABASE_MAX_CONNECTIONS", 5),
        statement_cache_capacity: env.parse_or("DATABASE_STATEMENT_CACHE_CAPACITY", 100),
        connect_timeout: env.seconds_or("DATABASE_CONNECT_TIMEOUT_SECS", 5.0),
        acquire_timeout: env.seconds_or("DATABASE_ACQUIRE_TIMEOUT_SECS", 3.0),
        allow_insecure_transport,
    }
}

/// Checks scheme and transport security without ever echoing the URL (it may
/// hold a password).
fn check_database_url(env: &mut Env, name: &str, url: &SecretString, allow_insecure: bool) {
    let parsed = match Url::parse(url.expose_secret()) {
        Ok(u) if matches!(u.scheme(), "postgres" | "postgresql") => u,
        _ => return env.invalid(name, "must be a postgres:// or postgresql:// URL"),
    };
    let sslmode = parsed
        .query_pairs()
        .find(|(k, _)| k == "sslmode")
        .map(|(_, v)| v.into_owned());
    let local = parsed.host_str().is_none_or(is_loopback_host);
    let plaintext = matches!(sslmode.as_deref(), Some("disable" | "allow" | "prefer"));
    if !local && plaintext && !allow_insecure {
        env.invalid(
            name,
            "asks for sslmode without certificate checks to a non-loopback host; use sslmode=verify-full (the default) or set ALLOW_INSECURE_TRANSPORT=true",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::Pooler;

    #[test]
    fn neon_pooler_hosts_and_supabase_port_6543_are_detected_as_transaction_poolers() {
        for url in [
            "postgres://u:p@ep-cool-name-123456-pooler.eu-central-1.aws.neon.tech/db",
            "postgres://u:p@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
            "postgres://u:p@db.abcdefgh.supabase.co:6543/postgres",
        ] {
            assert_eq!(Pooler::detect(url), Pooler::Transaction, "{url}");
        }
    }

    #[test]
    fn direct_endpoints_and_session_poolers_are_not_transaction_poolers() {
        for url in [
            "postgres://u:p@ep-cool-name-123456.eu-central-1.aws.neon.tech/db",
            "postgres://u:p@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
            "postgres://u:p@aws-0-eu-central-1.pooler.supabase.com/postgres",
            "postgres://u:p@db.abcdefgh.supabase.co:5432/postgres",
            "postgres://u:p@db.example.com:6543/x",
            "postgres://u:p@my-pooler.example.com/x",
            "not a url",
        ] {
            assert_eq!(Pooler::detect(url), Pooler::None, "{url}");
        }
    }
}
