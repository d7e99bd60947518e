//! Hostile input through real servers on 127.0.0.1, written as raw bytes on a TCP socket (some of these
//! requests only exist on the wire): oversized and never-ending bodies, malformed, deeply nested and
//! ambiguous JSON, oversized headers, and path tricks. Each gets a clear 4xx, no upstream call, and no
//! panic; the server keeps serving.
//!
//! Two mountings: axum's `nest_service("/api/autumn", ..)` (the prefix is stripped
//! by axum), and the service alone behind hyper (it sees every path whole).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use autumn_tower::{AutumnService, Protocol};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The default limit (1 MiB), so that 100,000 levels of nesting fit under it and reach the parser.
const BODY_LIMIT: usize = 1024 * 1024;
const BODY_TIMEOUT: Duration = Duration::from_millis(400);

static PANICS: AtomicUsize = AtomicUsize::new(0);

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

/// The service with an in-memory upstream that counts its calls.
fn service(calls: Arc<AtomicUsize>, protocol: Protocol) -> AutumnService<Identifier> {
    let transport = tower::service_fn(move |req: Request<Full<Bytes>>| {
        calls.fetch_add(1, Ordering::SeqCst);
        async move {
            let body = match req.uri().path() {
                "/v1/billing.attach" => r#"{"customer_id":"c","payment_url":null}"#,
                _ => r#"{"list":[]}"#,
            };
            Ok::<_, Infallible>(
                Response::builder()
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(body.as_bytes())))
                    .unwrap(),
            )
        }
    });
    AutumnService::builder()
        .secret_key("am_sk_test_hostile")
        .base_url("http://autumn.invalid")
        .transport(transport)
        .body_limit(BODY_LIMIT)
        .body_timeout(BODY_TIMEOUT)
        .protocol(protocol)
        .identify(identify as Identifier)
        .build()
        .unwrap()
}

struct Servers {
    /// axum, `nest_service("/api/autumn", ..)`.
    nested: SocketAddr,
    /// hyper, the service alone.
    bare: SocketAddr,
    calls: Arc<AtomicUsize>,
}

async fn servers() -> Servers {
    servers_for(Protocol::Current).await
}

async fn servers_for(protocol: Protocol) -> Servers {
    count_panics();
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = service(calls.clone(), protocol);

    let app = axum::Router::new().nest_service("/api/autumn", svc.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nested = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let svc = TowerToHyperService::new(svc.clone());
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Servers {
        nested,
        bare,
        calls,
    }
}

/// A response read off the wire.
#[derive(Debug)]
struct Wire {
    status: u16,
    head: String,
    body: Vec<u8>,
    elapsed: Duration,
}

impl Wire {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Reads one response (head, then a `content-length` body) from `stream`, within 10 s.
async fn read_response(stream: &mut TcpStream, started: Instant) -> Wire {
    let mut buf = Vec::new();
    let fut = async {
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    let status = head[9..12].parse().unwrap();
                    return Wire {
                        status,
                        head,
                        body: buf[end + 4..end + 4 + len].to_vec(),
                        elapsed: started.elapsed(),
                    };
                }
            }
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await.unwrap_or(0);
            assert!(
                n > 0,
                "connection closed after {:?}",
                String::from_utf8_lossy(&buf)
            );
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .expect("an answer within 10 s")
}

/// Sends raw bytes and reads the answer.
async fn raw(addr: SocketAddr, bytes: &[u8]) -> Wire {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    // The server may answer (and close) before taking everything: that is the point of some cases.
    let _ = stream.write_all(bytes).await;
    read_response(&mut stream, started).await
}

fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\nx-customer-id: cus_h\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn assert_json_4xx(what: &str, w: &Wire, status: u16, code: &str) {
    assert_eq!(w.status, status, "{what}: {w:?}");
    let v = w.json();
    assert_eq!(v["code"], code, "{what}: {w:?}");
    assert_eq!(v["statusCode"], status, "{what}");
    assert!(
        v["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}"
    );
    assert!(w.head.contains("content-type: application/json"), "{what}");
}

/// The server still serves an ordinary request, and nothing panicked.
async fn still_serving(s: &Servers) {
    for addr in [s.nested, s.bare] {
        let w = raw(addr, &post("/api/autumn/listPlans", b"{}")).await;
        assert_eq!(w.status, 200, "{w:?}");
    }
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "something panicked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_400() {
    let s = servers().await;
    let deep_arrays = "[".repeat(100_000);
    let deep_objects = r#"{"a":"#.repeat(100_000);
    let deep_closed = format!(
        r#"{{"planId":"pro","metadata":{}1{}}}"#,
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", br#"{"planId":"pro""#.to_vec()),
        ("not json", b"planId=pro".to_vec()),
        ("array", b"[1,2,3]".to_vec()),
        ("trailing garbage", br#"{"planId":"pro"} {}"#.to_vec()),
        ("100k nested arrays", deep_arrays.into_bytes()),
        ("100k nested objects", deep_objects.into_bytes()),
        (
            "50k nested, closed, under a user map",
            deep_closed.into_bytes(),
        ),
        (
            "invalid UTF-8 in a string",
            b"{\"planId\":\"\xff\xfe\xfd\"}".to_vec(),
        ),
        (
            "invalid UTF-8 outside",
            b"{\"planId\":\"pro\"\xc3}".to_vec(),
        ),
        ("lone surrogate escape", br#"{"planId":"\ud800"}"#.to_vec()),
        (
            "number out of range",
            br#"{"planId":"pro","quantity":1e400}"#.to_vec(),
        ),
        (
            "negative number out of range",
            br#"{"planId":"pro","quantity":-1e999}"#.to_vec(),
        ),
        ("NaN", br#"{"planId":"pro","quantity":NaN}"#.to_vec()),
        ("duplicate keys", br#"{"planId":"a","planId":"b"}"#.to_vec()),
        (
            "duplicate protected keys",
            br#"{"planId":"a","customerId":"x","customerId":"y"}"#.to_vec(),
        ),
        (
            "duplicate nested keys",
            br#"{"planId":"a","featureQuantities":[{"featureId":"a","featureId":"b"}]}"#.to_vec(),
        ),
        ("NUL byte", b"{\"planId\":\"pro\"}\0".to_vec()),
    ];
    for (what, body) in cases {
        for addr in [s.nested, s.bare] {
            let w = raw(addr, &post("/api/autumn/attach", &body)).await;
            assert_json_4xx(what, &w, 400, "invalid_json");
        }
    }
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
    still_serving(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_413_early() {
    let s = servers().await;
    // A declared 10 MB body: the answer comes after the head alone; the body is never sent.
    for addr in [s.nested, s.bare] {
        let head = b"POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-customer-id: c\r\n\
                     content-length: 10000000\r\n\r\n{\"planId\":";
        let w = raw(addr, head).await;
        assert_json_4xx("declared 10 MB", &w, 413, "payload_too_large");
        assert!(w.elapsed < Duration::from_secs(2), "{:?}", w.elapsed);
    }
    // A huge string over the limit.
    let huge = format!(r#"{{"planId":"{}"}}"#, "x".repeat(2 * BODY_LIMIT));
    let w = raw(s.bare, &post("/api/autumn/attach", huge.as_bytes())).await;
    assert_json_4xx("huge string", &w, 413, "payload_too_large");

    // A chunked body without a length, streamed until the server answers: reading stops near the limit.
    for addr in [s.nested, s.bare] {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        stream
            .write_all(
                b"POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-customer-id: c\r\n\
                  transfer-encoding: chunked\r\n\r\n",
            )
            .await
            .unwrap();
        let (mut rd, mut wr) = stream.into_split();
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let writer = tokio::spawn(async move {
            let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
            // At most 64 MB; the server stops reading long before.
            for _ in 0..4096 {
                if wr.write_all(chunk.as_bytes()).await.is_err() {
                    break;
                }
                counter.fetch_add(0x4000, Ordering::SeqCst);
            }
        });
        let mut stream_rd = Vec::new();
        let w = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let mut b = [0u8; 4096];
                let n = rd.read(&mut b).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                stream_rd.extend_from_slice(&b[..n]);
                if stream_rd.windows(4).any(|w| w == b"\r\n\r\n")
                    && String::from_utf8_lossy(&stream_rd).contains("payload_too_large")
                {
                    break;
                }
            }
        })
        .await;
        assert!(w.is_ok(), "no answer to an endless chunked body");
        let text = String::from_utf8_lossy(&stream_rd).into_owned();
        assert!(text.starts_with("HTTP/1.1 413"), "{text}");
        let at_answer = sent.load(Ordering::SeqCst);
        writer.abort();
        // Loopback socket buffers hold a few MB; what matters is that 64 MB were not needed.
        assert!(
            at_answer < 32 * 1024 * 1024,
            "sent {at_answer} bytes before the answer"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
    still_serving(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_never_end_are_408() {
    let s = servers().await;
    for addr in [s.nested, s.bare] {
        // A chunked body that stops after its first chunk, connection held open.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        stream
            .write_all(
                b"POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-customer-id: c\r\n\
                  transfer-encoding: chunked\r\n\r\n5\r\n{\"pla\r\n",
            )
            .await
            .unwrap();
        let w = read_response(&mut stream, started).await;
        assert_json_4xx("stalled chunked body", &w, 408, "request_timeout");
        assert!(
            w.elapsed >= BODY_TIMEOUT && w.elapsed < BODY_TIMEOUT * 5,
            "{:?}",
            w.elapsed
        );

        // A declared length that never arrives.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        stream
            .write_all(b"POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-customer-id: c\r\ncontent-length: 100\r\n\r\n{")
            .await
            .unwrap();
        let w = read_response(&mut stream, started).await;
        assert_json_4xx("short body", &w, 408, "request_timeout");

        // A slow drip: one byte every 50 ms, for ever. The deadline covers the whole body, not each read.
        let stream = TcpStream::connect(addr).await.unwrap();
        let started = Instant::now();
        let (mut rd, mut wr) = stream.into_split();
        wr.write_all(
            b"POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-customer-id: c\r\n\
              transfer-encoding: chunked\r\n\r\n",
        )
        .await
        .unwrap();
        let drip = tokio::spawn(async move {
            loop {
                if wr.write_all(b"1\r\n \r\n").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let mut b = [0u8; 1024];
                match rd.read(&mut b).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&b[..n]),
                }
                if String::from_utf8_lossy(&buf).contains("statusCode") {
                    break;
                }
            }
        })
        .await;
        drip.abort();
        let text = String::from_utf8_lossy(&buf).into_owned();
        assert!(text.starts_with("HTTP/1.1 408"), "slow drip: {text:?}");
        assert!(started.elapsed() < BODY_TIMEOUT * 5);
    }
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
    still_serving(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_broken_headers_are_4xx() {
    let s = servers().await;
    for addr in [s.nested, s.bare] {
        // One header of 1 MB: hyper refuses it (431) before the service is involved.
        let big = format!(
            "POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-customer-id: c\r\nx-junk: {}\r\ncontent-length: 2\r\n\r\n{{}}",
            "a".repeat(1024 * 1024)
        );
        let w = raw(addr, big.as_bytes()).await;
        assert_eq!(w.status, 431, "{w:?}");

        // Too many headers.
        let mut many = String::from(
            "POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n",
        );
        for i in 0..500 {
            many.push_str(&format!("x-h{i}: v\r\n"));
        }
        many.push_str("content-length: 2\r\n\r\n{}");
        let w = raw(addr, many.as_bytes()).await;
        assert_eq!(w.status, 431, "{w:?}");

        // Unparseable framing.
        for bad in [
            "POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: abc\r\n\r\n{}",
            "POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}",
            "POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: -1\r\n\r\n{}",
            "POST /api/autumn/att ach HTTP/1.1\r\nhost: x\r\n\r\n",
            "POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-bad\0: 1\r\n\r\n",
        ] {
            let w = raw(addr, bad.as_bytes()).await;
            assert!((400..500).contains(&w.status), "{bad:?}: {w:?}");
        }
    }
    // A customer id header that is not UTF-8: the demo identify treats it as anonymous.
    let mut req = b"POST /api/autumn/attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-customer-id: \xff\xfe\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".to_vec();
    let w = raw(s.bare, &req).await;
    assert_json_4xx("non-UTF-8 identity header", &w, 401, "no_customer_id");
    req.clear();
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
    still_serving(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_tricks_do_not_reach_a_route() {
    let s = servers().await;
    let tricks = [
        "/api/autumn/../x",
        "/api/autumn/../autumn/listPlans",
        "/api/autumn/x/../listPlans",
        "/api/autumn/./listPlans",
        "/api/autumn/listPlans/..",
        "/api/autumn/..%2FlistPlans",
        "/api/autumn/list%2FPlans",
        "/api/autumn%2FlistPlans",
        "/api%2Fautumn%2FlistPlans",
        "/api/autumn/%6CistPlans",
        "/api/autumn/listPlans%00",
        "/api/autumn/listPlans%20",
        "/api/autumn/listplans",
        "/api/autumn/LISTPLANS",
        "/API/AUTUMN/listPlans",
        "/api/Autumn/listPlans",
        "/Api/autumn/attach",
        "/api/autumn/listPlans/extra",
        "/api/autumn/listPlans;x=1",
        "/api/autumn/constructor",
        "/api/autumn/__proto__",
        "/api/autumn/toString",
        "/api/autumnlistPlans",
        "/api/autumn",
        "/",
    ];
    for path in tricks {
        for (name, addr) in [("nested", s.nested), ("bare", s.bare)] {
            let w = raw(addr, &post(path, b"{}")).await;
            assert!(
                w.status == 404 || w.status == 400,
                "{name} {path}: {} {:?}",
                w.status,
                String::from_utf8_lossy(&w.body)
            );
            if name == "bare" {
                // The service's own answer is its JSON 404.
                assert_json_4xx(path, &w, 404, "not_found");
            }
        }
    }
    assert_eq!(
        s.calls.load(Ordering::SeqCst),
        0,
        "a path trick reached Autumn"
    );

    // Doubled and trailing slashes are forgiven by design (autumn-js does the same); the query is ignored.
    for path in [
        "/api/autumn//listPlans",
        "/api/autumn/listPlans/",
        "//api/autumn/listPlans",
        "/api/autumn/listPlans?customerId=victim&x=%2F..",
    ] {
        let w = raw(s.bare, &post(path, b"{}")).await;
        assert_eq!(w.status, 200, "{path}: {w:?}");
    }
    // An absolute-form request target is routed by its path only; the upstream is fixed.
    let w = raw(
        s.bare,
        &post("http://evil.example/api/autumn/listPlans", b"{}"),
    )
    .await;
    assert_eq!(w.status, 200, "{w:?}");
    still_serving(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_but_legal_bodies_are_served() {
    let s = servers().await;
    // Just under the limit, and a wide flat object: served, not refused.
    let big = format!(
        r#"{{"planId":"pro","metadata":{{"note":"{}"}}}}"#,
        "x".repeat(BODY_LIMIT - 100)
    );
    let w = raw(s.bare, &post("/api/autumn/attach", big.as_bytes())).await;
    assert_eq!(w.status, 200, "{w:?}");
    let mut wide = String::from(r#"{"planId":"pro","metadata":{"#);
    for i in 0..3000 {
        wide.push_str(&format!(r#""k{i}":"{i}","#));
    }
    wide.push_str(r#""end":"0"}}"#);
    let w = raw(s.bare, &post("/api/autumn/attach", wide.as_bytes())).await;
    assert_eq!(w.status, 200, "{w:?}");
    assert_eq!(s.calls.load(Ordering::SeqCst), 2);
    // Huge integers that JSON allows are not an error by themselves.
    let w = raw(
        s.bare,
        &post(
            "/api/autumn/attach",
            br#"{"planId":"pro","metadata":{"n":123456789012345678901234567890}}"#,
        ),
    )
    .await;
    assert!(w.status == 200 || w.status == 400, "{w:?}");
    still_serving(&s).await;
}

/// `n` distinct keys, `"k00000":0` ... (11 bytes each): 95,000 of them make a 1 MiB body. With
/// `camel`, the keys are `"xQ..."` and `"x_q..."` in turn (a base-36 number after them), which the legacy
/// protocol renames to the same `x_q...`: of each pair the later wins.
fn flat_keys(n: usize, camel: bool) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(n * 12 + 2);
    out.push('{');
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        if camel {
            let j = i / 2;
            let b36: String = [j / 1296, j / 36 % 36, j % 36]
                .iter()
                .map(|&d| DIGITS[d % 36] as char)
                .collect();
            let head = if i % 2 == 0 { "xQ" } else { "x_q" };
            out.push_str(&format!(r#""{head}{b36}":0"#));
        } else {
            out.push_str(&format!(r#""k{i:05}":0"#));
        }
    }
    out.push('}');
    out
}

/// Puts `inner` (an object's text) under `key` of an object that also carries `fields`.
fn under(fields: &str, key: &str, inner: &str) -> String {
    format!(r#"{{{fields}"{key}":{inner}}}"#)
}

/// A flat object of 95,000 distinct keys (1 MiB, the body limit) costs a linear parse, on every route
/// that reads a body, in both protocols, identified or not: each is answered (by `raw`, within 10 s in a
/// debug build). Before, repeated keys were looked for by a linear scan of the keys read so far: about
/// 4.5e9 string comparisons, 30 s in a release build, on the anonymous legacy `attach`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wide_flat_bodies_cost_linear_time() {
    const KEYS: usize = 95_000;
    let plain = flat_keys(KEYS, false);
    let camel = flat_keys(90_000, true);
    let camel_attach = camel.replacen('{', r#"{"productId":"pro","#, 1);
    let in_properties = under(
        r#""featureId":"f","#,
        "properties",
        &flat_keys(90_000, true),
    );
    // Metadata values are strings: 80,000 of them.
    let in_metadata = under(
        r#""planId":"pro","#,
        "metadata",
        &flat_keys(80_000, false).replace(":0", r#":"0""#),
    );
    for body in [&plain, &camel_attach, &in_properties, &in_metadata] {
        assert!(body.len() <= BODY_LIMIT, "{}", body.len());
    }

    // (protocol, path, identified, body, status)
    let cases: Vec<(Protocol, &str, bool, &str, u16)> = vec![
        (Protocol::Legacy, "/api/autumn/attach", false, &plain, 401),
        (Protocol::Legacy, "/api/autumn/attach", false, &camel, 401),
        (
            Protocol::Legacy,
            "/api/autumn/attach",
            true,
            &camel_attach,
            200,
        ),
        (
            Protocol::Legacy,
            "/api/autumn/track",
            true,
            &in_properties,
            200,
        ),
        (Protocol::Legacy, "/api/autumn/customers", true, &plain, 200),
        (Protocol::Legacy, "/api/autumn/entities", true, &camel, 200),
        (
            Protocol::Current,
            "/api/autumn/getOrCreateCustomer",
            false,
            &plain,
            401,
        ),
        (Protocol::Current, "/api/autumn/attach", true, &plain, 400),
        (
            Protocol::Current,
            "/api/autumn/attach",
            true,
            &in_metadata,
            200,
        ),
        (
            Protocol::Current,
            "/api/autumn/listPlans",
            false,
            &plain,
            200,
        ),
    ];
    let legacy = servers_for(Protocol::Legacy).await;
    let current = servers().await;
    for (protocol, path, identified, body, status) in cases {
        let s = match protocol {
            Protocol::Legacy => &legacy,
            _ => &current,
        };
        let mut req = post(path, body.as_bytes());
        if !identified {
            let text = String::from_utf8_lossy(&req).replacen("x-customer-id: cus_h\r\n", "", 1);
            req = text.into_bytes();
        }
        let w = raw(s.bare, &req).await;
        assert_eq!(
            w.status,
            status,
            "{protocol:?} {path} identified={identified}: {}",
            String::from_utf8_lossy(&w.body)
        );
    }
    still_serving(&current).await;
}
