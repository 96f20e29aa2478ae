//! Consecutive-failure lockout (SECURITY.md: ≤ 100 per account, growing
//! back-off). Counters live in the store so every node sees the same count.

use crate::clock::UnixTime;

/// `locked_until` value of an account that stays locked until someone unlocks it.
pub const HARD_LOCK: UnixTime = i64::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures allowed before any delay.
    pub free_attempts: u32,
    /// First delay; doubles with each further failure.
    pub base_delay_secs: i64,
    pub max_delay_secs: i64,
    /// Failures after which the account is locked until servicedesk unlocks it.
    pub lock_after: u32,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            free_attempts: 5,
            base_delay_secs: 30,
            max_delay_secs: 15 * 60,
            lock_after: 20,
        }
    }
}

impl LockoutPolicy {
    /// When the account may be tried again after `failures` consecutive failures.
    #[must_use]
    pub fn locked_until(&self, failures: u32, now: UnixTime) -> UnixTime {
        if failures >= self.lock_after {
            return HARD_LOCK;
        }
        if failures < self.free_attempts {
            return 0;
        }
        let exp = (failures - self.free_attempts).min(30);
        let delay = self
            .base_delay_secs
            .saturating_mul(1_i64 << exp)
            .min(self.max_delay_secs);
        now.saturating_add(delay)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThrottleState {
    pub failures: u32,
    /// Unix time before which attempts are refused; 0 when free, [`HARD_LOCK`] when locked.
    pub locked_until: UnixTime,
}

impl ThrottleState {
    #[must_use]
    pub fn is_hard_locked(&self) -> bool {
        self.locked_until == HARD_LOCK
    }
    #[must_use]
    pub fn is_delayed(&self, now: UnixTime) -> bool {
        !self.is_hard_locked() && self.locked_until > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_then_locks() {
        let p = LockoutPolicy::default();
        assert_eq!(p.locked_until(4, 1000), 0);
        assert_eq!(p.locked_until(5, 1000), 1030);
        assert_eq!(p.locked_until(6, 1000), 1060);
        assert_eq!(p.locked_until(7, 1000), 1120);
        assert_eq!(p.locked_until(19, 1000), 1000 + 900);
        assert_eq!(p.locked_until(20, 1000), HARD_LOCK);
    }
}
