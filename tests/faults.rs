//! Fault injection: the AutumnService behind a real axum server on 127.0.0.1, calling a raw TCP fake
//! Autumn (`tests/fault_server`) that misbehaves in every way the network and a struggling API can.
//!
//! For each fault the browser must get a defined status and a JSON error body `{message, code,
//! statusCode}` within the configured deadline, a write must reach Autumn at most once, nothing may
//! panic, and the very next request must succeed.

mod fault_server;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use autumn_tower::{AutumnService, RetryPolicy};
use bytes::Bytes;
use fault_server::{Fault, FaultServer};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// Per-attempt deadline of the service's client.
const TIMEOUT: Duration = Duration::from_millis(500);
/// The whole upstream call, retries included, never takes longer than this.
const MAX_ELAPSED: Duration = Duration::from_secs(2);
/// What the browser may wait in all: the upstream deadline plus scheduling slack on a busy machine.
const DEADLINE: Duration = Duration::from_millis(2000 + 1500);

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts panics on the runtime's worker threads, where the server and the service run (a panic there
/// would otherwise only drop a connection). The tests' own assertions run on the test threads.
fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some("tokio-runtime-worker") {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

#[path = "support/identify.rs"]
mod identify;
use identify::{by_headers as identify, ByHeaders as Identifier};

fn service(upstream: &str) -> AutumnService<Identifier> {
    let mut retry = RetryPolicy::default();
    retry.max_retries = 2;
    retry.initial_backoff = Duration::from_millis(10);
    retry.max_backoff = Duration::from_secs(1);
    retry.max_elapsed = MAX_ELAPSED;
    AutumnService::builder()
        .secret_key("am_sk_test_faults_0123456789")
        .base_url(upstream)
        .configure_client(|c| {
            c.timeout(TIMEOUT)
                .connect_timeout(Duration::from_millis(300))
                .retry(retry)
        })
        .identify(identify as Identifier)
        .build()
        .unwrap()
}

/// Serves the service the way the quickstart does, on a free port.
async fn serve(svc: AutumnService<Identifier>) -> SocketAddr {
    let app = axum::Router::new().nest_service("/api/autumn", svc);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

struct Browser {
    client: Client<HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
    elapsed: Duration,
}

impl Browser {
    fn new(addr: SocketAddr) -> Self {
        Browser {
            client: Client::builder(TokioExecutor::new()).build_http(),
            addr,
        }
    }

    async fn post(&self, route: &str, body: &str) -> Answer {
        let req = Request::builder()
            .method("POST")
            .uri(format!("http://{}/api/autumn/{route}", self.addr))
            .header("x-customer-id", "cus_faults")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap();
        let started = Instant::now();
        let resp = tokio::time::timeout(Duration::from_secs(30), self.client.request(req))
            .await
            .expect("the server answers")
            .expect("the server answers with HTTP");
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let elapsed = started.elapsed();
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "{route}: the answer is not JSON: {:?}",
                String::from_utf8_lossy(&bytes)
            )
        });
        Answer {
            status: parts.status,
            headers: parts.headers,
            body,
            elapsed,
        }
    }
}

/// The browser-facing answer to each fault: (status, code). The README's table.
fn expected(fault: &Fault) -> (u16, &'static str) {
    match fault {
        Fault::Ok | Fault::Mislabelled { .. } => (200, ""),
        Fault::Reset | Fault::ResetMidBody | Fault::Close | Fault::CutShort => {
            (502, "upstream_unavailable")
        }
        Fault::Delay { .. } | Fault::Hang => (504, "upstream_timeout"),
        Fault::RateLimited { .. } => (429, "rate_limit_exceeded"),
        Fault::Status { status: 500, .. } => (500, "upstream_500"),
        Fault::Status { status: 502, .. } => (502, "upstream_502"),
        Fault::Status { status: 503, .. } => (503, "upstream_503"),
        Fault::Status { status: 504, .. } => (504, "upstream_504"),
        Fault::Status { .. } => unreachable!(),
        // An HTML error page keeps its status.
        Fault::Raw { status, .. } if *status != 200 => (*status, "autumn_api_error"),
        // A 200 that is not JSON (broken, or an HTML page), or far too big.
        Fault::Raw { .. } | Fault::Huge { .. } => (502, "invalid_upstream_response"),
    }
}

fn check_error_shape(what: &str, a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status.as_u16(), status, "{what}: {:?}", a.body);
    assert_eq!(
        a.headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..]),
        "{what}"
    );
    assert!(
        a.headers.get("set-cookie").is_none(),
        "{what}: upstream cookie forwarded"
    );
    assert!(
        a.elapsed < DEADLINE,
        "{what}: answered after {:?}",
        a.elapsed
    );
    if status == 200 {
        return;
    }
    let obj = a
        .body
        .as_object()
        .unwrap_or_else(|| panic!("{what}: {:?}", a.body));
    assert_eq!(
        obj.len(),
        3,
        "{what}: exactly message, code, statusCode: {obj:?}"
    );
    assert_eq!(obj["code"], code, "{what}");
    assert_eq!(obj["statusCode"], status, "{what}");
    assert!(
        obj["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {obj:?}"
    );
}

/// Runs every fault against one route; `write` routes must reach Autumn exactly once per browser call.
async fn every_fault_on(route: &str, body: &str, write: bool) {
    count_panics();
    let up = FaultServer::start().await;
    let browser = Browser::new(serve(service(&up.url())).await);
    let upstream_path = match route {
        "attach" => "/v1/billing.attach",
        "listPlans" => "/v1/plans.list",
        _ => unreachable!(),
    };
    for fault in Fault::all(TIMEOUT * 3) {
        let what = format!("{route} / {fault:?}");
        up.clear();
        up.set(fault.clone());
        let a = browser.post(route, body).await;
        let (status, code) = expected(&fault);
        check_error_shape(&what, &a, status, code);
        let calls = up.seen().iter().filter(|s| s.path == upstream_path).count();
        if write {
            assert_eq!(calls, 1, "{what}: a write reaches Autumn exactly once");
        } else {
            assert!((1..=3).contains(&calls), "{what}: {calls} attempts");
        }

        // The very next request succeeds, on the same service and pool.
        up.set(Fault::Ok);
        let next = browser.post(route, body).await;
        assert_eq!(next.status, StatusCode::OK, "after {what}: {:?}", next.body);
    }
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "something panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_on_a_write() {
    every_fault_on("attach", r#"{"planId":"pro"}"#, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_on_a_read() {
    every_fault_on("listPlans", "{}", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_then_recovery() {
    count_panics();
    let up = FaultServer::start().await;
    let browser = Browser::new(serve(service(&up.url())).await);
    assert_eq!(browser.post("listPlans", "{}").await.status, StatusCode::OK);

    up.stop_listening();
    // Let the aborted accept task drop its socket.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for (route, body) in [("attach", r#"{"planId":"pro"}"#), ("listPlans", "{}")] {
        let a = browser.post(route, body).await;
        check_error_shape(
            &format!("{route} / refused"),
            &a,
            502,
            "upstream_unavailable",
        );
    }
    up.listen_again().await;
    for (route, body) in [("attach", r#"{"planId":"pro"}"#), ("listPlans", "{}")] {
        let a = browser.post(route, body).await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{route} after refusal: {:?}",
            a.body
        );
    }
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "something panicked");
}

/// A read answered 429 with `Retry-After: 1` is retried after one second, not sooner; a write is not retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_on_reads_only() {
    let up = FaultServer::start().await;
    let browser = Browser::new(serve(service(&up.url())).await);
    up.set_policy(|seen| {
        if seen.path == "/v1/plans.list" || seen.path == "/v1/billing.attach" {
            Fault::RateLimited { retry_after: 1 }
        } else {
            Fault::Ok
        }
    });
    let a = browser.post("listPlans", "{}").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    let seen = up.seen();
    assert_eq!(
        seen.len(),
        2,
        "one retry fits in the 2 s budget after a 1 s wait"
    );
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");

    up.clear();
    let a = browser.post("attach", r#"{"planId":"pro"}"#).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(up.seen().len(), 1, "a write is never retried on 429");
}

/// An answer that never comes, on every route class, is cut at the deadline (not the OS's TCP timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_upstream_is_cut_at_the_deadline() {
    let up = FaultServer::start().await;
    let browser = Browser::new(serve(service(&up.url())).await);
    up.set(Fault::Hang);
    let (a, b) = tokio::join!(
        browser.post("attach", r#"{"planId":"pro"}"#),
        browser.post("listPlans", "{}")
    );
    check_error_shape("attach / hang", &a, 504, "upstream_timeout");
    check_error_shape("listPlans / hang", &b, 504, "upstream_timeout");
    assert!(
        // A write is not retried: one attempt's deadline, plus slack for a busy machine.
        a.elapsed < TIMEOUT + Duration::from_millis(1500),
        "{:?}",
        a.elapsed
    );
}
