//! The body of the `service` fuzz target, shared with the stable replay test (`tests/fuzz_replay.rs`).
//!
//! An input is one browser request, laid out as:
//!
//! ```text
//! <method selector byte><path>\n<name>: <value>\n...\n\n<body>
//! ```
//!
//! and the last byte of the input picks what the in-memory Autumn answers. Requests that `http` cannot
//! represent (an invalid path or header) are skipped. For every other request the service must answer
//! (no panic, no hang), with a well-formed status and a JSON body `{message, code, statusCode}` on
//! errors, and any upstream call must carry exactly the customer the identify hook returned.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use autumn_tower::{AutumnService, Identity};
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tower::ServiceExt;

const METHODS: &[&str] = &["POST", "GET", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"];

type Identifier = fn(&Parts) -> std::future::Ready<Result<Option<Identity>, Infallible>>;

fn identify(parts: &Parts) -> std::future::Ready<Result<Option<Identity>, Infallible>> {
    let id = parts
        .headers
        .get("x-customer-id")
        .and_then(|v| v.to_str().ok())
        .map(Identity::new);
    std::future::ready(Ok(id))
}

/// What the in-memory Autumn answers.
#[derive(Clone, Copy, Debug)]
enum Upstream {
    Ok,
    Error,
    NotJson,
    Html,
    Fails,
}

/// Splits an input into a request and the upstream's behaviour; `None` when `http` cannot represent it.
pub fn decode(data: &[u8]) -> Option<(Request<Full<Bytes>>, u8)> {
    let (&sel, rest) = data.split_first()?;
    let last = *data.last()?;
    let method = METHODS[sel as usize % METHODS.len()];
    let nl = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let path = std::str::from_utf8(&rest[..nl]).ok()?;
    let mut builder = Request::builder().method(method).uri(path);
    let mut rest = rest.get(nl + 1..).unwrap_or(&[]);
    loop {
        let nl = rest.iter().position(|b| *b == b'\n');
        let Some(nl) = nl else { break };
        let line = &rest[..nl];
        rest = &rest[nl + 1..];
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|b| *b == b':')?;
        let name = http::HeaderName::from_bytes(&line[..colon]).ok()?;
        let value = http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
        builder = builder.header(name, value);
    }
    let req = builder.body(Full::new(Bytes::copy_from_slice(rest))).ok()?;
    Some((req, last))
}

/// Runs one input through the service and checks its answer. Panics on a violated invariant.
pub fn run(data: &[u8]) {
    let Some((req, pick)) = decode(data) else {
        return;
    };
    let upstream = match pick % 5 {
        0 => Upstream::Ok,
        1 => Upstream::Error,
        2 => Upstream::NotJson,
        3 => Upstream::Html,
        _ => Upstream::Fails,
    };
    let identity = req
        .headers()
        .get("x-customer-id")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let log = seen.clone();
    let transport = tower::service_fn(move |req: Request<Full<Bytes>>| {
        let log = log.clone();
        async move {
            let bytes = req.into_body().collect().await.unwrap().to_bytes();
            let body: Value = serde_json::from_slice(&bytes).expect("upstream bodies are JSON");
            log.lock().unwrap().push(body);
            let (status, text): (u16, &'static str) = match upstream {
                Upstream::Ok => (200, r#"{"list":[],"customer_id":"c","payment_url":null}"#),
                Upstream::Error => (404, r#"{"message":"not found","code":"nope"}"#),
                Upstream::NotJson => (200, "{\"list\":"),
                Upstream::Html => (502, "<html>bad gateway</html>"),
                Upstream::Fails => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "reset",
                    ))
                }
            };
            Ok(Response::builder()
                .status(status)
                .body(Full::new(Bytes::from_static(text.as_bytes())))
                .unwrap())
        }
    });
    let svc: AutumnService<Identifier> = AutumnService::builder()
        .secret_key("am_sk_test_fuzz")
        .base_url("http://autumn.invalid")
        .transport(transport)
        .body_limit(64 * 1024)
        .configure_client(|c| c.retry(autumn_tower::RetryPolicy::none()))
        .identify(identify as Identifier)
        .build()
        .unwrap();

    thread_local! {
        static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
    }
    let (status, body) = RT.with(|rt| {
        rt.block_on(async {
            let fut = svc.oneshot(req);
            let resp = tokio::time::timeout(std::time::Duration::from_secs(5), fut)
                .await
                .expect("the service answers an in-memory request promptly")
                .unwrap();
            let status = resp.status();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            (status, body)
        })
    });

    if status == http::StatusCode::NO_CONTENT {
        assert!(body.is_empty());
    } else {
        let v: Value = serde_json::from_slice(&body).expect("every answer is JSON");
        if !status.is_success() {
            assert_eq!(v["statusCode"], status.as_u16(), "{v}");
            assert!(v["code"].as_str().is_some_and(|c| !c.is_empty()), "{v}");
            assert!(v["message"].is_string(), "{v}");
        }
    }
    let seen = seen.lock().unwrap();
    assert!(seen.len() <= 1, "one request, at most one upstream call");
    if let Some(up) = seen.first() {
        match &identity {
            Some(id) => assert_eq!(up["customer_id"], Value::String(id.clone()), "{up}"),
            None => assert!(up.get("customer_id").is_none(), "anonymous: {up}"),
        }
    }
}
