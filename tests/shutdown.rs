//! Graceful shutdown: `axum::serve(..).with_graceful_shutdown(..)` around the service, a slow upstream,
//! shutdown signalled while requests are in flight. The in-flight requests complete (each write reaches
//! Autumn once and its answer reaches the browser); new connections are refused; idle keep-alive
//! connections are closed without a partial answer; the server then exits.

mod fault_server;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use autumn_tower::AutumnService;
use fault_server::{Fault, FaultServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "support/identify.rs"]
mod identify;
use identify::{by_headers as identify, ByHeaders as Identifier};

fn request(route: &str, plan: &str) -> Vec<u8> {
    let body = format!(r#"{{"planId":"{plan}"}}"#);
    format!(
        "POST /api/autumn/{route} HTTP/1.1\r\nhost: x\r\nx-customer-id: cus_shutdown\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one whole response: (status, head, body).
async fn read_response(stream: &mut TcpStream) -> Option<(u16, String, Vec<u8>)> {
    let mut buf = Vec::new();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let status = head[9..12].parse().unwrap();
                return Some((status, head, buf[end + 4..end + 4 + len].to_vec()));
            }
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                assert!(
                    buf.is_empty(),
                    "a partial answer: {:?}",
                    String::from_utf8_lossy(&buf)
                );
                return None;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_requests_complete_and_new_ones_are_refused() {
    const UPSTREAM_DELAY: Duration = Duration::from_millis(1500);
    let up = FaultServer::start().await;
    up.set_policy(|seen| {
        if seen.path == "/v1/billing.attach" {
            Fault::delay(UPSTREAM_DELAY)
        } else {
            Fault::Ok
        }
    });
    let svc: AutumnService<Identifier> = AutumnService::builder()
        .secret_key("am_sk_test_shutdown")
        .base_url(up.url())
        .configure_client(|c| c.timeout(Duration::from_secs(5)))
        .identify(identify as Identifier)
        .build()
        .unwrap();
    let app = axum::Router::new().nest_service("/api/autumn", svc);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
            .unwrap();
        Instant::now()
    });

    // An idle keep-alive connection, used once before the shutdown.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(&request("listPlans", "x")).await.unwrap();
    let (status, _, _) = read_response(&mut idle).await.expect("an answer");
    assert_eq!(status, 200);

    // Four slow writes in flight, each on its own connection.
    let mut in_flight = Vec::new();
    for i in 0..4 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&request("attach", &format!("plan_{i}")))
            .await
            .unwrap();
        in_flight.push(tokio::spawn(async move {
            let answer = read_response(&mut s).await;
            (answer, Instant::now())
        }));
    }
    // Wait until all four are waiting on Autumn.
    let started = Instant::now();
    while up
        .seen()
        .iter()
        .filter(|s| s.path == "/v1/billing.attach")
        .count()
        < 4
    {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the writes never reached Autumn"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    stop_tx.send(()).unwrap();
    let signalled = Instant::now();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // New connections are refused.
    let refused = TcpStream::connect(addr).await;
    assert!(
        refused.is_err(),
        "a new connection was accepted during shutdown"
    );
    // The idle keep-alive connection is closed, cleanly: no answer, no partial answer.
    let _ = idle.write_all(&request("listPlans", "late")).await;
    let late = tokio::time::timeout(Duration::from_secs(5), read_response(&mut idle))
        .await
        .expect("the idle connection is closed promptly");
    assert!(
        late.is_none(),
        "a request on an idle connection was served during shutdown"
    );

    // Every in-flight request completes with its real answer.
    let mut finished = Vec::new();
    for (i, h) in in_flight.into_iter().enumerate() {
        let (answer, at) = h.await.unwrap();
        let (status, head, body) = answer.expect("the in-flight request was answered");
        assert_eq!(status, 200, "{:?}", String::from_utf8_lossy(&body));
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["customerId"], "cus_shutdown", "{v}");
        assert!(head.contains("connection: close"), "request {i}: {head}");
        finished.push(at);
    }
    // The server exits after the last of them, not before.
    let exited = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server exits once the in-flight requests are done")
        .unwrap();
    assert!(finished
        .iter()
        .all(|f| *f <= exited + Duration::from_millis(50)));
    assert!(exited.duration_since(signalled) < UPSTREAM_DELAY + Duration::from_secs(2));

    // Each write reached Autumn exactly once; the late request never reached it.
    let attaches: Vec<String> = up
        .seen()
        .iter()
        .filter(|s| s.path == "/v1/billing.attach")
        .map(|s| s.body["plan_id"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = attaches.clone();
    sorted.sort();
    assert_eq!(sorted, ["plan_0", "plan_1", "plan_2", "plan_3"]);
    assert_eq!(
        up.seen()
            .iter()
            .filter(|s| s.path == "/v1/plans.list")
            .count(),
        1
    );
}
