//! Per-address throttling of failed sign-ins, so one machine cannot spray
//! guesses over many accounts. Kept in memory on each node: it is a brake on
//! volume, not an account state, and losing it on restart is harmless.

use crate::clock::UnixTime;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

#[derive(Debug)]
pub struct IpThrottle {
    max_failures: u32,
    window_secs: i64,
    max_entries: usize,
    entries: Mutex<HashMap<IpAddr, (UnixTime, u32)>>,
}

impl IpThrottle {
    #[must_use]
    pub fn new(max_failures: u32, window_secs: i64) -> Self {
        Self {
            max_failures,
            window_secs,
            max_entries: 100_000,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `ip` has used up its failures in the current window.
    pub fn is_blocked(&self, ip: IpAddr, now: UnixTime) -> bool {
        let map = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&normalise(ip))
            .is_some_and(|(start, n)| now - start < self.window_secs && *n >= self.max_failures)
    }

    pub fn record_failure(&self, ip: IpAddr, now: UnixTime) {
        let mut map = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= self.max_entries {
            // Bounded memory: drop expired windows, and if an attacker still
            // fills the map, start over rather than grow without limit.
            map.retain(|_, (start, _)| now - *start < self.window_secs);
            if map.len() >= self.max_entries {
                map.clear();
            }
        }
        let e = map.entry(normalise(ip)).or_insert((now, 0));
        if now - e.0 >= self.window_secs {
            *e = (now, 0);
        }
        e.1 = e.1.saturating_add(1);
    }
}

/// IPv6 clients are throttled per /64, the smallest block one subscriber gets.
fn normalise(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_within_window_and_per_ipv6_prefix() {
        let t = IpThrottle::new(3, 600);
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2".parse().unwrap();
        for _ in 0..3 {
            t.record_failure(a, 0);
        }
        assert!(t.is_blocked(b, 10));
        assert!(!t.is_blocked(b, 700));
        assert!(!t.is_blocked("10.0.0.1".parse().unwrap(), 10));
    }
}
