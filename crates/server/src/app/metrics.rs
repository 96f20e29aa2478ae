//! A handful of Prometheus counters, rendered in the text exposition format.
//! Served only on the separate metrics listener (SECURITY.md E4).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    pub signin_success: AtomicU64,
    pub signin_failure: AtomicU64,
    pub signin_busy: AtomicU64,
    pub http_requests: AtomicU64,
    pub http_server_errors: AtomicU64,
    pub messages_sent: AtomicU64,
    pub messages_failed: AtomicU64,
    /// 1 while this server runs the probes (the probe leader), else 0.
    pub probe_leader: AtomicU64,
    /// Authorization codes presented at the token endpoint, and the
    /// transactions that redeemed them (their ratio: the group commit's
    /// batch size).
    pub oidc_code_exchanges: AtomicU64,
    pub oidc_exchange_batches: AtomicU64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    #[must_use]
    pub fn render(&self) -> String {
        let mut s = String::new();
        let rows = [
            (
                "portvakt_signin_total",
                "result=\"success\"",
                &self.signin_success,
                "Sign-in attempts",
            ),
            (
                "portvakt_signin_total",
                "result=\"failure\"",
                &self.signin_failure,
                "",
            ),
            (
                "portvakt_signin_total",
                "result=\"busy\"",
                &self.signin_busy,
                "",
            ),
            (
                "portvakt_http_requests_total",
                "",
                &self.http_requests,
                "HTTP requests served",
            ),
            (
                "portvakt_http_server_errors_total",
                "",
                &self.http_server_errors,
                "HTTP 5xx responses",
            ),
            (
                "portvakt_oidc_code_exchanges_total",
                "",
                &self.oidc_code_exchanges,
                "Authorization codes presented at the token endpoint",
            ),
            (
                "portvakt_oidc_exchange_batches_total",
                "",
                &self.oidc_exchange_batches,
                "Transactions that redeemed them, each for every code waiting",
            ),
        ];
        for (name, labels, c, help) in rows {
            if !help.is_empty() {
                let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter");
            }
            let v = c.load(Ordering::Relaxed);
            if labels.is_empty() {
                let _ = writeln!(s, "{name} {v}");
            } else {
                let _ = writeln!(s, "{name}{{{labels}}} {v}");
            }
        }
        let leader = self.probe_leader.load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "# HELP portvakt_probe_leader 1 while this server runs the probes\n\
             # TYPE portvakt_probe_leader gauge\nportvakt_probe_leader {leader}"
        );
        s
    }
}
