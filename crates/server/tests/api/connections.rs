//! Issue 10 L6: slow and idle clients cannot hold connections open, and one
//! client cannot open more than its share. Raw TCP, as an attacker would.
use crate::helpers::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection; the time it took.
async fn closed_after(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit.saturating_sub(start.elapsed()), s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
            Err(_) => return None,
        }
    }
}

const NO_PROXIES: &str = "trusted_proxies = []\n";

#[tokio::test]
async fn l6_idle_and_trickling_connections_are_closed_at_the_header_timeout() {
    let app = spawn_with(&format!(
        "{NO_PROXIES}[connections]\nheader_timeout_secs = 1\n"
    ))
    .await;

    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    let t = closed_after(&mut idle, Duration::from_secs(5)).await;
    assert!(
        t.is_some_and(|t| t >= Duration::from_millis(900)),
        "idle: {t:?}"
    );

    // One header byte every 200 ms: the headers never complete in 1 s.
    let trickler = TcpStream::connect(app.addr).await.unwrap();
    let (mut rd, mut wr) = trickler.into_split();
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        for b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        {
            if wr.write_all(&[*b]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while !matches!(rd.read(&mut buf).await, Ok(0) | Err(_)) {}
    })
    .await;
    assert!(closed.is_ok(), "trickling connection still open after 5 s");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    writer.abort();

    // A kept-alive connection idle between requests is closed too.
    let mut kept = TcpStream::connect(app.addr).await.unwrap();
    kept.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let t = closed_after(&mut kept, Duration::from_secs(5)).await;
    assert!(t.is_some(), "kept-alive connection still open after 5 s");
}

#[tokio::test]
async fn l6_one_client_cannot_open_more_than_its_connections() {
    let app = spawn_with(&format!(
        "{NO_PROXIES}[connections]\nmax_per_ip = 4\nheader_timeout_secs = 30\n"
    ))
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(app.addr).await.unwrap());
    }
    // Give the server time to account for the four.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = TcpStream::connect(app.addr).await.unwrap();
    let t = closed_after(&mut fifth, Duration::from_secs(2)).await;
    assert!(t.is_some(), "the fifth connection was not refused");

    // The four still work.
    let s = &mut held[0];
    s.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");

    // Closing one frees a place.
    held.pop();
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let mut s = TcpStream::connect(app.addr).await.unwrap();
        s.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut head = [0u8; 12];
        if s.read_exact(&mut head).await.is_ok() {
            assert_eq!(&head, b"HTTP/1.1 200");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no place freed after closing one"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Issue 10 L6: once its headers are in, a request has
/// `body_timeout_secs` to send its body; a trickled form body or token
/// request gets 408 and the connection is closed.
#[tokio::test]
async fn l6_a_trickled_body_is_answered_408_at_the_body_timeout() {
    let app = spawn_with(&format!(
        "{NO_PROXIES}[connections]\nheader_timeout_secs = 30\nbody_timeout_secs = 1\n"
    ))
    .await;
    for path in ["/login", "/oidc/exempelkommun/token"] {
        let mut s = TcpStream::connect(app.addr).await.unwrap();
        let start = Instant::now();
        s.write_all(
            format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: 100\r\n\r\nusername="
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut head = [0u8; 12];
        let answered = tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut head)).await;
        assert!(answered.is_ok(), "{path}: no answer within 5 s");
        assert_eq!(&head, b"HTTP/1.1 408", "{path}");
        assert!(start.elapsed() >= Duration::from_millis(900), "{path}");
        assert!(
            closed_after(&mut s, Duration::from_secs(3)).await.is_some(),
            "{path}: closed"
        );
    }
}
