//! The accept loop, with the limits `axum::serve` does not set (issue 10
//! L6: idle and trickling connections stayed open 75 s+, so a few clients
//! could hold every socket and file descriptor — slowloris).
//!
//! - hyper's header-read timeout: a request's headers must arrive within
//!   `header_timeout_secs`. hyper starts that timer whenever it waits for a
//!   request head, so it also closes kept-alive connections idle that long.
//! - at most `max_per_ip` open connections per client address (IPv6 per
//!   /64, which one client controls). Trusted proxies are exempt: they carry
//!   many clients, and their own limits apply.
//! - upgrades (WebSocket through the proxy) keep working
//!   (`serve_connection(..).with_upgrades()`) and keep counting toward
//!   the cap while their tunnel is open ([`ConnectionSlot`]).

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use serde::Deserialize;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// `[connections]` in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsConfig {
    /// Seconds a client has to send a request's headers; also the longest a
    /// kept-alive connection may wait for its next request.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_secs: u64,
    /// Open connections per client address (trusted proxies excepted).
    #[serde(default = "default_max_per_ip")]
    pub max_per_ip: usize,
    /// Seconds a client has to send a form's or an API request's whole
    /// body once its headers are in (an evidence upload gets six times as
    /// long); a trickled body is answered 408 and the connection closed.
    #[serde(default = "default_body_timeout")]
    pub body_timeout_secs: u64,
}

fn default_header_timeout() -> u64 {
    10
}

fn default_body_timeout() -> u64 {
    20
}

/// High enough for a municipality whose staff share one public address
/// (seed 000: "a large organisation's public IP is shared by everyone"),
/// each browser keeping about six connections; low enough that one
/// machine cannot hold every socket. Lower it where clients are known.
fn default_max_per_ip() -> usize {
    1024
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        Self {
            header_timeout_secs: default_header_timeout(),
            max_per_ip: default_max_per_ip(),
            body_timeout_secs: default_body_timeout(),
        }
    }
}

impl ConnectionsConfig {
    /// # Errors
    /// A value out of range, with the key's name.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=300).contains(&self.header_timeout_secs) {
            return Err("connections.header_timeout_secs: must be between 1 and 300".into());
        }
        if !(1..=300).contains(&self.body_timeout_secs) {
            return Err("connections.body_timeout_secs: must be between 1 and 300".into());
        }
        if !(1..=100_000).contains(&self.max_per_ip) {
            return Err("connections.max_per_ip: must be between 1 and 100000".into());
        }
        Ok(())
    }
}

/// The address a connection counts against: IPv4 (also IPv4-mapped IPv6)
/// as is, IPv6 by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 @ IpAddr::V4(_) => v4,
    }
}

/// Open connections per client, and whether a refusal was already logged
/// since the client last dropped below the cap (one line per episode, not
/// one per refused socket).
#[derive(Default)]
struct OpenPerClient(Mutex<HashMap<IpAddr, (usize, bool)>>);

/// One open connection; counted down when the connection task ends.
struct Slot {
    key: IpAddr,
    table: Arc<OpenPerClient>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((n, logged)) = t.get_mut(&self.key) {
            *n -= 1;
            *logged = false;
            if *n == 0 {
                t.remove(&self.key);
            }
        }
    }
}

/// A connection's place under its client's cap, in every request's
/// extensions: a WebSocket tunnel keeps a clone for as long as it is open,
/// so an upgraded connection still counts after hyper lets go of it.
#[derive(Clone, Default)]
pub struct ConnectionSlot {
    /// Held for its `Drop`: the last clone frees the place.
    _held: Option<Arc<Slot>>,
}

enum Admission {
    Open(Slot),
    /// Refused; `true` when this is the first refusal to log.
    Refused(bool),
}

fn admit(table: &Arc<OpenPerClient>, key: IpAddr, max: usize) -> Admission {
    let mut t = table.0.lock().unwrap_or_else(PoisonError::into_inner);
    let entry = t.entry(key).or_insert((0, false));
    if entry.0 >= max {
        let first = !entry.1;
        entry.1 = true;
        return Admission::Refused(first);
    }
    entry.0 += 1;
    Admission::Open(Slot {
        key,
        table: table.clone(),
    })
}

/// Serves `app` until `shutdown` resolves, then lets open connections
/// finish their requests.
///
/// # Errors
/// Never at present; kept for the listener's I/O errors to come.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ConnectionsConfig,
    trusted_proxies: &[IpNet],
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let table = Arc::new(OpenPerClient::default());
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_timeout_secs))
        .keep_alive(true);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off, go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let ip = client_key(peer.ip());
        // On a dual-stack listener IPv4 peers arrive IPv4-mapped; the
        // trusted list is written in plain IPv4.
        let peer_ip = match peer.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        let slot = if trusted_proxies.iter().any(|n| n.contains(&peer_ip)) {
            None
        } else {
            match admit(&table, ip, limits.max_per_ip) {
                Admission::Open(slot) => Some(slot),
                Admission::Refused(log) => {
                    if log {
                        tracing::warn!(
                            client = %ip,
                            max = limits.max_per_ip,
                            "refusing connections from this client: it already has \
                             connections.max_per_ip open"
                        );
                    }
                    drop(stream);
                    continue;
                }
            }
        };
        let slot = ConnectionSlot {
            _held: slot.map(Arc::new),
        };
        let app = app.clone();
        let for_requests = slot.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req.extensions_mut().insert(for_requests.clone());
            app.clone().oneshot(req)
        });
        let conn = builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let _slot: ConnectionSlot = slot;
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
    drop(stop_tx);
    while connections.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_counted_by_address_and_ipv6_by_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(mapped), "10.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_cap_refuses_the_next_connection_and_frees_on_close() {
        let table = Arc::new(OpenPerClient::default());
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<Slot> = (0..2)
            .filter_map(|_| match admit(&table, ip, 2) {
                Admission::Open(s) => Some(s),
                Admission::Refused(_) => None,
            })
            .collect();
        assert_eq!(held.len(), 2);
        assert!(matches!(admit(&table, ip, 2), Admission::Refused(true)));
        assert!(matches!(admit(&table, ip, 2), Admission::Refused(false)));
        drop(held);
        assert!(matches!(admit(&table, ip, 2), Admission::Open(_)));
    }
}
