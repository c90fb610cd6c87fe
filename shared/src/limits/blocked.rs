//! The in-process memory of callers already refused: until the moment Redis
//! said they may try again, refuse them here without a round trip. It only
//! ever refuses, so it cannot let an instance exceed a limit; and the moment is
//! measured from *before* the refused call left, so it never outlasts the
//! server's own answer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries past which expired ones are swept out.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
pub(super) struct Block {
    pub retry_at: Instant,
    pub reset_at: Instant,
}

#[derive(Debug, Default)]
pub(super) struct Blocked {
    entries: Mutex<HashMap<String, Block>>,
}

impl Blocked {
    /// The block on `key` still in force at `now`, if any.
    pub(super) fn get(&self, key: &str, now: Instant) -> Option<Block> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some(block) if block.retry_at > now => Some(*block),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Remembers a refusal that the server answered for a call sent at `sent`.
    pub(super) fn insert(&self, key: &str, sent: Instant, retry: Duration, reset: Duration) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= SWEEP_AT {
            let now = Instant::now();
            entries.retain(|_, b| b.retry_at > now);
        }
        entries.insert(
            key.to_owned(),
            Block {
                retry_at: sent + retry,
                reset_at: sent + reset.max(retry),
            },
        );
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_ends_at_its_retry_moment_and_is_forgotten() {
        let blocked = Blocked::default();
        let sent = Instant::now();
        blocked.insert(
            "k",
            sent,
            Duration::from_millis(50),
            Duration::from_secs(60),
        );
        assert!(blocked.get("k", sent + Duration::from_millis(49)).is_some());
        assert!(blocked.get("k", sent + Duration::from_millis(50)).is_none());
        assert_eq!(blocked.len(), 0);
        assert!(blocked.get("other", sent).is_none());
    }

    #[test]
    fn expired_entries_are_swept_when_the_map_grows() {
        let blocked = Blocked::default();
        let past = Instant::now()
            .checked_sub(Duration::from_secs(10))
            .unwrap_or_else(Instant::now);
        for i in 0..SWEEP_AT {
            blocked.insert(
                &i.to_string(),
                past,
                Duration::from_millis(1),
                Duration::from_millis(1),
            );
        }
        blocked.insert(
            "live",
            Instant::now(),
            Duration::from_secs(5),
            Duration::from_secs(5),
        );
        assert_eq!(blocked.len(), 1);
    }
}
