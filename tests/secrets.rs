//! The secret key never leaves the process except in the `Authorization` header to Autumn: not in a
//! response body or header to the browser, not in any tracing output at any level (captured here at
//! TRACE, spans included), and not in the `Debug`/`Display` of the client, the service, the layer, the
//! builders or errors. Upstream answers that echo the key back are part of the test.

mod fault_server;
#[path = "support/identify.rs"]
mod identify;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use autumn_tower::models::{AttachParams, CheckParams};
use autumn_tower::{AutumnLayer, AutumnService, Client, Protocol, RetryPolicy};
use bytes::Bytes;
use fault_server::{Fault, FaultServer};
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use identify::{by_headers as identify, ByHeaders as Identifier};
use tracing_subscriber::fmt::format::FmtSpan;

const SECRET: &str = "am_sk_test_S3CR3T_9f8e7d6c5b4a";

/// Everything written by the tracing subscriber, process-wide.
fn log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .init();
        buf
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The browser's customer (read by the kit's identify hook).
const CUSTOMER: [(&str, &str); 2] = [
    ("x-customer-id", "cus_secret_test"),
    ("x-customer-email", "someone@example.com"),
];

fn service(upstream: &str, protocol: Protocol) -> AutumnService<Identifier> {
    let mut retry = RetryPolicy::default();
    retry.initial_backoff = Duration::from_millis(5);
    retry.max_elapsed = Duration::from_secs(2);
    AutumnService::builder()
        .secret_key(SECRET)
        .base_url(upstream)
        .protocol(protocol)
        .configure_client(|c| c.timeout(Duration::from_millis(300)).retry(retry))
        .identify(identify as Identifier)
        .build()
        .unwrap()
}

/// Other keys an upstream may echo (another environment's key, a header it quotes back): they are
/// recognised by their shape (`am_sk_...`, `Bearer ...`) and never leave the process either.
const OTHER_KEY: &str = "am_sk_live_0THERKEY0";
const OTHER_TOKEN: &str = "0THERT0KEN";

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET),
        "{what} contains the secret key: {text}"
    );
    // Nor a recognisable part of it.
    assert!(
        !text.contains("S3CR3T"),
        "{what} contains part of the secret key: {text}"
    );
    assert!(
        !text.contains("0THERKEY") && !text.contains(OTHER_TOKEN),
        "{what} contains a key or bearer token an upstream echoed: {text}"
    );
}

/// An error body that starts like JSON but is not, with the key placed across the point where an excerpt
/// of `cut` characters would end (`S3CR3T` before the cut, the key's end after it).
fn straddling(cut: usize) -> String {
    let start = "{\"message\":\"";
    let pad = cut - 20 - start.len();
    format!("{start}{}{SECRET} and more", "x".repeat(pad))
}

/// What the fake Autumn answers, chosen by the plan id the browser sent.
fn policy(seen: &fault_server::Seen) -> Fault {
    let echo = format!("Invalid secret key: {SECRET} (Authorization: Bearer {SECRET})");
    let plan = seen.body["plan_id"]
        .as_str()
        .or(seen.body["product_id"].as_str())
        .or(seen.body["feature_id"].as_str())
        .unwrap_or("");
    match plan {
        // `message` and `code` that are not strings: never copied to the browser.
        "echo_json_not_strings" => Fault::raw(
            400,
            "application/json",
            serde_json::json!({
                "message": {"detail": format!("bad key Bearer {SECRET}, or Bearer {OTHER_TOKEN}")},
                "code": {"k": SECRET, "other": OTHER_KEY},
            })
            .to_string(),
        ),
        // Strings that carry keys of another shape: scrubbed.
        "echo_other_keys" => Fault::raw(
            401,
            "application/json",
            serde_json::json!({
                "message": format!("Invalid key {OTHER_KEY} (Authorization: Bearer {OTHER_TOKEN})"),
                "code": format!("bad_{OTHER_KEY}"),
            })
            .to_string(),
        ),
        // Looks like JSON, is not: the key sits across the 200-character excerpt's end.
        "echo_broken_json_error" => Fault::raw(500, "application/json", straddling(200)),
        // A 2xx whose field has the wrong type: serde's message quotes the value.
        "echo_in_a_typed_field" => Fault::raw(
            200,
            "application/json",
            serde_json::json!({"allowed": format!("Bearer {SECRET} {OTHER_KEY}"), "customer_id": "c"})
                .to_string(),
        ),
        // A 2xx that is not JSON, the key across the 120-character excerpt of a decode error.
        "echo_broken_json_ok_cut" => Fault::raw(200, "application/json", straddling(120)),
        "echo_json_error" => Fault::raw(
            401,
            "application/json",
            serde_json::json!({"message": echo, "code": "invalid_secret_key"}).to_string(),
        ),
        "echo_json_code" => Fault::raw(
            400,
            "application/json",
            serde_json::json!({"message": "bad", "code": echo}).to_string(),
        ),
        "echo_text_error" => Fault::raw(500, "text/plain", echo),
        "echo_text_ok" => Fault::raw(200, "text/plain", echo),
        "echo_broken_json_ok" => Fault::raw(200, "application/json", format!("{{\"x\":\"{echo}")),
        "reset" => Fault::Reset,
        "slow" => Fault::delay(Duration::from_secs(2)),
        "huge" => Fault::Huge {
            bytes: 20 * 1024 * 1024,
            chunked: true,
        },
        _ => Fault::Ok,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_in_no_response_and_no_log() {
    let log = log();
    let up = FaultServer::start().await;
    up.set_policy(policy);
    let svc = service(&up.url(), Protocol::Current);
    let legacy = service(&up.url(), Protocol::Legacy);
    let app = axum::Router::new()
        .nest_service("/api/autumn", svc)
        .nest_service("/legacy/api/autumn", legacy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let browser = HttpClient::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();

    // (route, headers, body)
    type Case = (String, Vec<(&'static str, &'static str)>, String);
    let mut cases: Vec<Case> = Vec::new();
    let plans = [
        "ok",
        "echo_json_not_strings",
        "echo_other_keys",
        "echo_broken_json_error",
        "echo_broken_json_ok_cut",
        "echo_json_error",
        "echo_json_code",
        "echo_text_error",
        "echo_text_ok",
        "echo_broken_json_ok",
        "reset",
        "slow",
        "huge",
    ];
    for plan in plans {
        for route in ["api/autumn/attach", "api/autumn/previewAttach"] {
            cases.push((
                route.to_owned(),
                CUSTOMER.to_vec(),
                format!(r#"{{"planId":"{plan}"}}"#),
            ));
        }
        // The legacy protocol passes Autumn's `message` and `code` on: scrubbed, and only as strings.
        for route in ["legacy/api/autumn/attach", "legacy/api/autumn/check"] {
            cases.push((
                route.to_owned(),
                CUSTOMER.to_vec(),
                format!(r#"{{"productId":"{plan}","featureId":"f"}}"#),
            ));
        }
    }
    // The browser trying to get the key reflected, and the failure paths of the service itself.
    cases.push((
        "api/autumn/getOrCreateCustomer".into(),
        vec![
            CUSTOMER[0],
            CUSTOMER[1],
            ("authorization", "Bearer am_sk_guess"),
        ],
        r#"{"customerId":"x","expand":["secret_key"]}"#.into(),
    ));
    cases.push((
        "api/autumn/attach".into(),
        vec![("x-identify-fails", "1")],
        "{}".into(),
    ));
    cases.push((
        "api/autumn/attach".into(),
        vec![],
        r#"{"planId":"pro"}"#.into(),
    ));
    cases.push(("api/autumn/listPlans".into(), vec![], "{not json".into()));
    cases.push(("api/autumn/nope".into(), vec![], "{}".into()));

    for (route, headers, body) in &cases {
        let mut req = Request::builder()
            .method("POST")
            .uri(format!("http://{addr}/{route}"))
            .header("content-type", "application/json");
        for (n, v) in headers {
            req = req.header(*n, *v);
        }
        let resp = browser
            .request(req.body(Full::new(Bytes::from(body.clone()))).unwrap())
            .await
            .unwrap();
        let (parts, body_bytes) = resp.into_parts();
        let text =
            String::from_utf8_lossy(&body_bytes.collect().await.unwrap().to_bytes()).into_owned();
        let what = format!("{route} {body}: {}", parts.status);
        assert_clean(&format!("the body of {what}"), &text);
        for (name, value) in &parts.headers {
            assert_clean(
                &format!("header {name} of {what}"),
                &String::from_utf8_lossy(value.as_bytes()),
            );
        }
    }

    // The key did reach Autumn, in the Authorization header only: the test would see it if it leaked.
    let seen = up.seen();
    assert!(!seen.is_empty());
    for s in &seen {
        assert_eq!(
            s.header("authorization"),
            Some(format!("Bearer {SECRET}").as_str())
        );
        assert_clean("the upstream body", &s.body.to_string());
    }

    // Give the spans of the last requests time to close, then read everything logged.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    // The capture works: the service's spans and warnings are there, at every level.
    assert!(text.contains("cus_secret_test"), "spans were captured");
    assert!(text.contains("WARN"), "warnings were captured");
    assert!(
        text.contains("DEBUG") || text.contains("TRACE"),
        "debug output was captured"
    );
    assert_clean("the tracing output", &text);
}

#[test]
fn the_key_is_in_no_debug_or_display() {
    let svc = AutumnService::builder()
        .secret_key(SECRET)
        .base_url("http://127.0.0.1:9")
        .identify(identify as Identifier);
    let builder_debug = format!("{svc:?} {svc:#?}");
    assert_clean("AutumnServiceBuilder's Debug", &builder_debug);
    let svc = svc.build().unwrap();
    assert_clean("AutumnService's Debug", &format!("{svc:?} {svc:#?}"));
    assert_clean(
        "Client's Debug",
        &format!("{:?} {:#?}", svc.client(), svc.client()),
    );
    let layer = AutumnLayer::new(svc.clone());
    assert_clean("AutumnLayer's Debug", &format!("{layer:?} {layer:#?}"));

    let cb = Client::builder()
        .secret_key(SECRET)
        .base_url("http://127.0.0.1:9");
    assert_clean("ClientBuilder's Debug", &format!("{cb:?} {cb:#?}"));
    let client = cb.build().unwrap();
    assert_clean("Client's Debug", &format!("{client:?} {client:#?}"));
    let client = Client::new(SECRET).unwrap();
    assert_clean("Client's Debug", &format!("{client:?} {client:#?}"));

    // Keys rejected at build time: the error says why, without quoting the key.
    for bad in [
        format!("{SECRET} trailing"),
        format!("{SECRET}\n"),
        format!("{SECRET}é"),
        format!("\u{0}{SECRET}"),
    ] {
        let err = Client::builder()
            .secret_key(bad.clone())
            .base_url("http://127.0.0.1:9")
            .build()
            .expect_err("a malformed key is refused");
        let text = format!(
            "{err} | {err:?} | {err:#?} | {:?}",
            std::error::Error::source(&err)
        );
        assert_clean("a configuration error", &text);
        let err = AutumnService::builder()
            .secret_key(bad)
            .base_url("http://127.0.0.1:9")
            .identify(identify as Identifier)
            .build()
            .expect_err("a malformed key is refused");
        assert_clean("a configuration error", &format!("{err} {err:?}"));
    }
    // A bad base URL is quoted in its error, the key is not.
    let err = Client::builder()
        .secret_key(SECRET)
        .base_url("ftp://example.com")
        .build()
        .unwrap_err();
    assert_clean("a base URL error", &format!("{err} {err:?}"));
}

/// The client's own errors (what an app logs or prints) carry no key either: not in Autumn's `message` or
/// `code`, whatever their type, and not in an excerpt of a body that is not JSON, even when the key
/// straddles the excerpt's end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_never_carry_the_key() {
    let up = FaultServer::start().await;
    up.set_policy(policy);
    let client = Client::builder()
        .secret_key(SECRET)
        .base_url(up.url())
        .timeout(Duration::from_millis(500))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    for plan in [
        "echo_json_not_strings",
        "echo_other_keys",
        "echo_broken_json_error",
        "echo_broken_json_ok_cut",
        "echo_json_error",
        "echo_json_code",
        "echo_text_error",
        "echo_text_ok",
        "echo_broken_json_ok",
    ] {
        let err = client
            .billing()
            .attach(&AttachParams::new("cus_secret_test", plan))
            .await
            .expect_err(plan);
        let text = format!(
            "{err} | {err:?} | {err:#?} | {:?}",
            std::error::Error::source(&err)
        );
        assert_clean(&format!("the client's error for {plan}"), &text);
        if let Some(api) = err.api() {
            assert_clean(
                &format!("the API error for {plan}"),
                &format!("{api:?} {} {}", api.code(), api.message()),
            );
        }
    }
    // A decode error names the value that did not fit: scrubbed too.
    let err = client
        .balances()
        .check(&CheckParams::new(
            "cus_secret_test",
            "echo_in_a_typed_field",
        ))
        .await
        .expect_err("a string where a boolean belongs");
    assert!(err.is_decode(), "{err:?}");
    assert_clean("a decode error", &format!("{err} | {err:?} | {err:#?}"));
    // The answers that were JSON objects kept what could be kept: a string message, scrubbed.
    let err = client
        .billing()
        .attach(&AttachParams::new("cus_secret_test", "echo_other_keys"))
        .await
        .unwrap_err();
    let api = err.api().expect("an API error");
    assert!(api.message().starts_with("Invalid key "), "{api:?}");
    assert!(api.message().contains("[redacted]"), "{api:?}");
}
