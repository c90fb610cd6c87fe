//! Fetching documents by URL and delivering webhooks: the SSRF guard's
//! allow-list, the size limit of a fetched document, timeouts and the
//! webhook retry budget (see docs/webhooks.md and docs/api.md).

use std::time::Duration;

use super::env::Env;

/// One `FETCH_ALLOW` entry: a host name (matched exactly, case-insensitive)
/// or a network in CIDR notation (a bare address is a /32 or /128).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    Host(String),
    Net(ipnet::IpNet),
}

/// Outbound HTTP settings shared by URL input and webhook delivery.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Hosts and networks exempt from the private-address rules, to which
    /// plain `http://` is also allowed (`FETCH_ALLOW`, comma-separated; empty).
    pub allow: Vec<AllowEntry>,
    /// Largest document fetched by URL (`FETCH_MAX_BYTES`, 30 MiB): apart
    /// from `OCR_MAX_BYTES` so URL input can exceed a platform's payload limit.
    pub max_bytes: usize,
    /// Time to open the connection, per hop (`FETCH_CONNECT_TIMEOUT_SECS`, 5).
    pub connect_timeout: Duration,
    /// Time for the whole fetch, redirects and body included (`FETCH_TIMEOUT_SECS`, 20): keep it under
    /// `REQUEST_TIMEOUT_SECS` (30), the deadline of the request that fetches.
    pub timeout: Duration,
    /// Redirects followed, each re-checked (`FETCH_MAX_REDIRECTS`, 5).
    pub max_redirects: u32,
    /// Time one webhook delivery may take (`WEBHOOK_TIMEOUT_SECS`, 10).
    pub webhook_timeout: Duration,
    /// Delivery attempts before a webhook is given up (`WEBHOOK_MAX_ATTEMPTS`, 12);
    /// the delay between them is the queue's backoff (`WORKER_RETRY_BASE`, `WORKER_RETRY_MAX`).
    pub webhook_max_attempts: i32,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            allow: Vec::new(),
            max_bytes: 30 * 1024 * 1024,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            max_redirects: 5,
            webhook_timeout: Duration::from_secs(10),
            webhook_max_attempts: 12,
        }
    }
}

/// Parses `FETCH_ALLOW`: `files.internal, 10.1.0.0/16, 127.0.0.1`.
pub fn parse_allow(raw: &str) -> Result<Vec<AllowEntry>, String> {
    let mut entries = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Ok(net) = item.parse::<ipnet::IpNet>() {
            entries.push(AllowEntry::Net(net.trunc()));
        } else if let Ok(ip) = item
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
        {
            entries.push(AllowEntry::Net(ipnet::IpNet::from(ip)));
        } else if item.contains('/') || item.contains(':') || item.contains(' ') {
            return Err(format!(
                "`{item}` is neither a host name nor a network such as 10.0.0.0/8"
            ));
        } else {
            entries.push(AllowEntry::Host(
                item.trim_end_matches('.').to_ascii_lowercase(),
            ));
        }
    }
    Ok(entries)
}

pub(super) fn fetch_config(env: &mut Env) -> FetchConfig {
    let defaults = FetchConfig::default();
    let allow = match env.string("FETCH_ALLOW").map(|raw| parse_allow(&raw)) {
        None => Vec::new(),
        Some(Ok(entries)) => entries,
        Some(Err(why)) => {
            env.invalid("FETCH_ALLOW", &why);
            Vec::new()
        }
    };
    let config = FetchConfig {
        allow,
        max_bytes: env.parse_or("FETCH_MAX_BYTES", defaults.max_bytes),
        connect_timeout: env.seconds_or(
            "FETCH_CONNECT_TIMEOUT_SECS",
            defaults.connect_timeout.as_secs_f64(),
        ),
        timeout: env.seconds_or("FETCH_TIMEOUT_SECS", defaults.timeout.as_secs_f64()),
        max_redirects: env.parse_or("FETCH_MAX_REDIRECTS", defaults.max_redirects),
        webhook_timeout: env.seconds_or(
            "WEBHOOK_TIMEOUT_SECS",
            defaults.webhook_timeout.as_secs_f64(),
        ),
        webhook_max_attempts: env.parse_or("WEBHOOK_MAX_ATTEMPTS", defaults.webhook_max_attempts),
    };
    if config.max_bytes == 0 {
        env.invalid("FETCH_MAX_BYTES", "must be greater than 0");
    }
    if config.max_redirects > 20 {
        env.invalid("FETCH_MAX_REDIRECTS", "must be at most 20");
    }
    for (name, d) in [
        ("FETCH_CONNECT_TIMEOUT_SECS", config.connect_timeout),
        ("FETCH_TIMEOUT_SECS", config.timeout),
        ("WEBHOOK_TIMEOUT_SECS", config.webhook_timeout),
    ] {
        if d < Duration::from_millis(100) {
            env.invalid(name, "must be at least 100ms");
        }
    }
    if !(1..=100).contains(&config.webhook_max_attempts) {
        env.invalid("WEBHOOK_MAX_ATTEMPTS", "must be between 1 and 100");
    }
    config
}
