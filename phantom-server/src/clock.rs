//! The server's clock, injectable so tests of expiry need not wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use phantom_sdk::Timestamp;

use crate::config::ClockMode;

/// A clock: the system's, or the system's plus an offset that tests move
/// forward.
#[derive(Debug, Clone)]
pub struct Clock {
    mode: ClockMode,
    offset_ms: Arc<AtomicU64>,
}

impl Clock {
    /// A clock of the given mode.
    pub fn new(mode: ClockMode) -> Self {
        Self {
            mode,
            offset_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        let offset = Duration::from_millis(self.offset_ms.load(Ordering::Relaxed));
        Timestamp::new(SystemTime::now() + offset)
    }

    /// Now, in milliseconds since the Unix epoch (the store's unit).
    pub fn now_ms(&self) -> i64 {
        self.now().unix_millis()
    }

    /// Moves a manual clock forward. Returns false for the system clock,
    /// which nobody may move.
    pub fn advance(&self, by: Duration) -> bool {
        if self.mode != ClockMode::Manual {
            return false;
        }
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(by, Ordering::Relaxed);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_manual_clock_moves() {
        let system = Clock::new(ClockMode::System);
        assert!(!system.advance(Duration::from_secs(60)));

        let manual = Clock::new(ClockMode::Manual);
        let before = manual.now_ms();
        assert!(manual.advance(Duration::from_secs(600)));
        assert!(manual.now_ms() - before >= 600_000);
    }
}
