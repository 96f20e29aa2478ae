//! One health check over the network: an HTTP request, a TCP connection or
//! a TLS handshake, each within the probe's timeout. Errors become short
//! English reasons for the editor ("connection refused", "status 503").

use portvakt_core::probe::{CheckResult, ProbeKind, ProbeSpec};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::rustls;

/// Longest body read when looking for `expect_body`.
const MAX_BODY: usize = 256 * 1024;

/// Everything a probe needs between checks, built once.
pub struct Checker {
    spec: ProbeSpec,
    http: Option<reqwest::Client>,
    tls: Option<tokio_rustls::TlsConnector>,
}

fn extra_roots(spec: &ProbeSpec) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let Some(path) = &spec.ca_file else {
        return Ok(Vec::new());
    };
    let pem = std::fs::read(path).map_err(|e| anyhow::anyhow!("ca_file {path}: {e}"))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("ca_file {path}: {e}"))?;
    anyhow::ensure!(!certs.is_empty(), "ca_file {path}: no certificates");
    Ok(certs)
}

impl Checker {
    /// # Errors
    /// An unreadable `ca_file` or a client that cannot be built.
    pub fn new(spec: &ProbeSpec) -> anyhow::Result<Self> {
        let timeout = Duration::from_secs(u64::from(spec.timeout_s));
        let roots = extra_roots(spec)?;
        let (http, tls) = match &spec.kind {
            ProbeKind::Http { .. } => {
                let mut b = reqwest::Client::builder()
                    .timeout(timeout)
                    .connect_timeout(timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    // A fresh connection each time: a kept-alive one
                    // could hide a service that no longer accepts any.
                    .pool_max_idle_per_host(0)
                    .user_agent("Portvakt-probe");
                for der in &roots {
                    b = b.add_root_certificate(reqwest::Certificate::from_der(der)?);
                }
                (Some(b.build()?), None)
            }
            ProbeKind::Tcp { .. } => (None, None),
            ProbeKind::Tls { .. } => {
                let mut store = rustls::RootCertStore::empty();
                store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                for der in roots {
                    store.add(der)?;
                }
                let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()?
                .with_root_certificates(store)
                .with_no_client_auth();
                (
                    None,
                    Some(tokio_rustls::TlsConnector::from(Arc::new(config))),
                )
            }
        };
        Ok(Self {
            spec: spec.clone(),
            http,
            tls,
        })
    }

    /// Runs one check; `now` is the Unix time, for certificate expiry.
    pub async fn check(&self, now: i64) -> CheckResult {
        let started = Instant::now();
        let timeout = Duration::from_secs(u64::from(self.spec.timeout_s));
        let outcome = match tokio::time::timeout(timeout, self.run(now)).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} s", self.spec.timeout_s)),
        };
        let millis = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        match outcome {
            Ok(()) => CheckResult {
                ok: true,
                error: String::new(),
                millis,
            },
            Err(error) => CheckResult {
                ok: false,
                error,
                millis,
            },
        }
    }

    async fn run(&self, now: i64) -> Result<(), String> {
        match &self.spec.kind {
            ProbeKind::Http {
                url,
                expect_status,
                expect_body,
            } => {
                let client = self.http.as_ref().ok_or("no client")?;
                http(client, url, expect_status, expect_body.as_deref()).await
            }
            ProbeKind::Tcp { address } => {
                let mut s = TcpStream::connect(address.as_str())
                    .await
                    .map_err(|e| reason(&e))?;
                let _ = s.shutdown().await;
                Ok(())
            }
            ProbeKind::Tls {
                address,
                server_name,
                min_days_left,
            } => {
                let connector = self.tls.as_ref().ok_or("no connector")?;
                tls(connector, address, server_name, *min_days_left, now).await
            }
        }
    }
}

fn reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        std::io::ErrorKind::ConnectionReset => "connection reset".into(),
        _ => e.to_string(),
    }
}

async fn http(
    client: &reqwest::Client,
    url: &str,
    expect_status: &[u16],
    expect_body: Option<&str>,
) -> Result<(), String> {
    let mut res = client.get(url).send().await.map_err(|e| {
        // The innermost cause says the most ("connection refused").
        let mut src: &dyn std::error::Error = &e;
        while let Some(s) = src.source() {
            src = s;
        }
        if e.is_timeout() {
            "no answer in time".to_owned()
        } else {
            src.to_string()
        }
    })?;
    let status = res.status().as_u16();
    if !expect_status.contains(&status) {
        return Err(format!("status {status}"));
    }
    let Some(needle) = expect_body else {
        return Ok(());
    };
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_BODY {
            break;
        }
    }
    if String::from_utf8_lossy(&body).contains(needle) {
        Ok(())
    } else {
        Err("expected text not in the answer".into())
    }
}

async fn tls(
    connector: &tokio_rustls::TlsConnector,
    address: &str,
    server_name: &str,
    min_days_left: u32,
    now: i64,
) -> Result<(), String> {
    let name = ServerName::try_from(server_name.to_owned()).map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect(address).await.map_err(|e| reason(&e))?;
    let mut stream = connector
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS: {e}"))?;
    let not_after = {
        let (_, conn) = stream.get_ref();
        let der = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or("TLS: no certificate")?;
        let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref())
            .map_err(|e| format!("TLS: certificate unreadable: {e}"))?;
        cert.validity().not_after.timestamp()
    };
    let _ = stream.shutdown().await;
    let days_left = (not_after - now).div_euclid(86_400);
    if days_left < i64::from(min_days_left) {
        let end = jiff::Timestamp::from_second(not_after)
            .map(|t| {
                t.to_zoned(portvakt_core::clock::stockholm().clone())
                    .date()
                    .to_string()
            })
            .unwrap_or_default();
        return Err(format!(
            "the certificate expires in {days_left} days ({end})"
        ));
    }
    Ok(())
}
