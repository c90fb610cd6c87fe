//! One warning per interval about serving without Redis, instead of one per
//! request: under load a dead Redis would otherwise flood the log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::KvError;

/// Remembers when it last warned.
#[derive(Debug, Default)]
pub struct DegradedLog {
    last_warned_ms: AtomicU64,
}

impl DegradedLog {
    pub const INTERVAL: Duration = Duration::from_secs(10);

    pub const fn new() -> Self {
        DegradedLog {
            last_warned_ms: AtomicU64::new(0),
        }
    }

    /// Logs `what` at warn level unless it was logged within `INTERVAL`.
    /// Returns whether it logged.
    /// `Disabled` (no Redis configured, on purpose) is not worth a warning.
    pub fn warn(&self, what: &'static str, error: &KvError) -> bool {
        if matches!(error, KvError::Disabled) {
            return false;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let last = self.last_warned_ms.load(Ordering::Relaxed);
        let interval = u64::try_from(Self::INTERVAL.as_millis()).unwrap_or(u64::MAX);
        if last != 0 && now.saturating_sub(last) < interval {
            return false;
        }
        if self
            .last_warned_ms
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        tracing::warn!(error = %error, "{what}");
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_once_per_interval() {
        let log = DegradedLog::new();
        let e = KvError::Unavailable("down".into());
        assert!(log.warn("redis down; serving uncached", &e));
        assert!(!log.warn("redis down; serving uncached", &e));
    }
}
