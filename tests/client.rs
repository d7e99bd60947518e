//! The typed client against raw TCP servers on 127.0.0.1: exact requests, parsed answers, error mapping,
//! timeouts, and the retry rules (a write is sent once; a read and a keyed track are retried).

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

mod fault_server;
#[path = "support/json.rs"]
mod json;

use std::time::Duration;

use autumn_tower::models::{
    AttachParams, CheckParams, GetCustomerParams, GetOrCreateCustomerParams, TrackParams,
};
use autumn_tower::{Client, ErrorKind, RetryPolicy};
use fault_server::{Fault, FaultServer};
use json::numbers_as_f64;
use serde_json::{json, Value};

/// A raw TCP fake Autumn whose n-th request gets `steps[n]` (the last step repeats), and its URL.
async fn server(steps: Vec<Fault>) -> (String, FaultServer) {
    let up = FaultServer::start().await;
    up.set_steps(steps);
    (up.url(), up)
}

/// 200 with this JSON body.
fn ok(body: Value) -> Fault {
    Fault::Status { status: 200, body }
}

fn client(url: &str) -> Client {
    Client::builder()
        .secret_key("am_sk_test_client_secret")
        .base_url(format!("{url}/v1"))
        .timeout(Duration::from_millis(500))
        .retry(RetryPolicy::default().with_initial_backoff(Duration::from_millis(5)))
        .build()
        .unwrap()
}

/// A `Balance` as the spec describes it, with an unknown field.
fn balance(feature_id: &str, remaining: f64) -> Value {
    json!({
        "feature_id": feature_id, "granted": 100, "remaining": remaining, "usage": 100.0 - remaining,
        "unlimited": false, "overage_allowed": false, "max_purchase": null, "next_reset_at": null,
        "brandNewBalanceField": {"camelCaseKey": 1}
    })
}

#[tokio::test]
async fn check_sends_the_exact_request_and_parses_the_answer() {
    let answer = json!({
        "allowed": true, "customer_id": "cus_1", "required_balance": 1, "flag": null,
        "balance": balance("messages", 99.0),
        "balances": {"camelCaseKey": balance("camelCaseKey", 5.0), "snake_key": null},
        "brand_new_field": [1]
    });
    let (url, up) = server(vec![ok(answer.clone())]).await;
    let c = client(&url);
    let mut params = CheckParams::new("cus_1", "messages").required_balance(1.0);
    params.properties =
        Some(serde_json::from_value(json!({"camelCaseKey": 1, "snake_key": 2})).unwrap());
    let r = c.balances().check(&params).await.unwrap();
    assert!(r.allowed);
    assert_eq!(r.customer_id, "cus_1");
    let b = r.balance.as_ref().unwrap();
    assert_eq!(
        (b.feature_id.as_str(), b.remaining, b.granted),
        ("messages", 99.0, 100.0)
    );
    assert_eq!(b.extra["brandNewBalanceField"], json!({"camelCaseKey": 1}));
    let balances = r.balances.as_ref().unwrap();
    assert_eq!(
        balances.keys().collect::<Vec<_>>(),
        ["camelCaseKey", "snake_key"],
        "map keys are user data"
    );
    assert_eq!(balances["camelCaseKey"].as_ref().unwrap().remaining, 5.0);
    assert!(balances["snake_key"].is_none());
    assert_eq!(
        r.extra["brand_new_field"],
        json!([1]),
        "unknown fields are kept"
    );
    assert_eq!(
        numbers_as_f64(serde_json::to_value(&r).unwrap()),
        numbers_as_f64(answer),
        "the typed answer writes back what was received"
    );

    let s = up.seen()[0].clone();
    assert!(
        s.head().starts_with("POST /v1/balances.check HTTP/1.1\r\n"),
        "{}",
        s.head()
    );
    let head = s.head().to_ascii_lowercase();
    assert!(head.contains("authorization: bearer am_sk_test_client_secret\r\n"));
    assert!(head.contains("x-api-version: 2.4.0\r\n"));
    assert!(head.contains("content-type: application/json\r\n"));
    assert!(head.contains("user-agent: autumn-rs/"));
    assert_eq!(
        s.body,
        json!({"customer_id": "cus_1", "feature_id": "messages", "required_balance": 1.0,
               "properties": {"camelCaseKey": 1, "snake_key": 2}})
    );
}

#[tokio::test]
async fn autumn_error_answers_are_api_errors_with_their_status_and_code() {
    for (status, body, code) in [
        (
            400,
            r#"{"message":"bad","code":"invalid_inputs"}"#,
            "invalid_inputs",
        ),
        (
            401,
            r#"{"message":"no key","code":"unauthorized"}"#,
            "unauthorized",
        ),
        (
            404,
            r#"{"message":"nope","code":"customer_not_found"}"#,
            "customer_not_found",
        ),
        (
            409,
            r#"{"message":"dup","code":"duplicate_idempotency_key"}"#,
            "duplicate_idempotency_key",
        ),
        (
            429,
            r#"{"message":"slow down","code":"rate_limit_exceeded"}"#,
            "rate_limit_exceeded",
        ),
        (500, r#"<html>oops</html>"#, "autumn_api_error"),
    ] {
        let (url, up) = server(vec![Fault::raw(status, "application/json", body)]).await;
        let err = client(&url)
            .billing()
            .attach(&AttachParams::new("c", "pro"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Api, "{status}");
        let api = err.api().unwrap();
        assert_eq!(api.status().as_u16(), status);
        assert_eq!(api.code(), code);
        assert_eq!(up.seen().len(), 1, "a write is sent once ({status})");
        for text in [format!("{err}"), format!("{err:?}")] {
            assert!(!text.contains("am_sk_test_client_secret"), "{text}");
        }
    }
}

/// A success status with a body that is not the expected JSON.
#[tokio::test]
async fn a_success_that_is_not_json_is_a_decode_error() {
    let (url, _up) = server(vec![Fault::raw(200, "application/json", "not json")]).await;
    let err = client(&url)
        .balances()
        .check(&CheckParams::new("c", "f"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("not json"), "{err}");
}

#[tokio::test]
async fn a_write_is_sent_once_even_when_the_connection_drops_after_it_was_read() {
    let (url, up) = server(vec![
        Fault::Close,
        ok(json!({"customer_id": "c", "payment_url": null})),
    ])
    .await;
    let err = client(&url)
        .billing()
        .attach(&AttachParams::new("c", "pro"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(up.seen().len(), 1);

    // A timeout on a write is not repeated either.
    let (url, up) = server(vec![Fault::Hang, ok(json!({}))]).await;
    let started = std::time::Instant::now();
    let err = client(&url)
        .billing()
        .attach(&AttachParams::new("c", "pro"))
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(up.seen().len(), 1);
}

#[tokio::test]
async fn a_read_is_retried_and_succeeds() {
    let customer = json!({
        "id": "c", "name": null, "email": null, "created_at": 1_767_225_600_000_i64, "fingerprint": null,
        "stripe_id": null, "env": "sandbox", "metadata": {}, "send_email_receipts": false,
        "billing_controls": {}, "subscriptions": [], "purchases": [], "licenses": [],
        "balances": {"snake_key": balance("snake_key", 1.0)}, "flags": {}
    });
    let (url, up) = server(vec![
        Fault::Close,
        Fault::raw(503, "application/json", r#"{"message":"busy"}"#),
        ok(customer),
    ])
    .await;
    let r = client(&url)
        .customers()
        .get_or_create(&GetOrCreateCustomerParams::new("c"))
        .await
        .unwrap();
    assert_eq!(r.id.as_deref(), Some("c"));
    assert!(r.balances.contains_key("snake_key"));
    assert_eq!(up.seen().len(), 3);
}

#[tokio::test]
async fn track_is_retried_with_the_same_idempotency_key() {
    let (url, up) = server(vec![
        Fault::RateLimited { retry_after: 0 },
        ok(json!({"customer_id": "c", "value": 1, "balance": null})),
    ])
    .await;
    let r = client(&url)
        .balances()
        .track(&TrackParams::new("c", "messages", 1.0))
        .await
        .unwrap();
    assert_eq!(r.value, 1.0);
    let seen = up.seen();
    assert_eq!(seen.len(), 2);
    let key = |h: &str| {
        h.lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("idempotency-key:")
                    .map(|v| v.trim().to_owned())
            })
            .expect("track carries an idempotency key")
    };
    assert_eq!(key(&seen[0].head()), key(&seen[1].head()));

    // A retry that meets 409 duplicate_idempotency_key: the first attempt went through.
    let (url, up) = server(vec![
        Fault::Close,
        Fault::raw(
            409,
            "application/json",
            r#"{"message":"dup","code":"duplicate_idempotency_key"}"#,
        ),
    ])
    .await;
    let err = client(&url)
        .balances()
        .track(&TrackParams::new("c", "messages", 1.0).idempotency_key("msg_42"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyApplied);
    assert_eq!(up.seen().len(), 2);
    assert!(up.seen()[0].head().contains("msg_42"));
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = Client::builder()
        .secret_key("am_sk_test_client_secret")
        .base_url(format!("http://{addr}"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c
        .billing()
        .attach(&AttachParams::new("c", "pro"))
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}

#[test]
fn the_secret_is_in_no_debug_output() {
    let builder = Client::builder().secret_key("am_sk_test_client_secret");
    assert!(!format!("{builder:?}").contains("am_sk_test_client_secret"));
    let c = builder.base_url("http://127.0.0.1:9").build().unwrap();
    assert!(!format!("{c:?}").contains("am_sk_test_client_secret"));
    let err = Client::builder()
        .secret_key("bad key with spaces")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(!format!("{err:?} {err}").contains("bad key with spaces"));
}

#[tokio::test]
async fn a_read_that_keeps_meeting_429_gives_up_with_the_rate_limit_error() {
    let (url, up) = server(vec![Fault::RateLimited { retry_after: 0 }]).await;
    let err = client(&url)
        .balances()
        .check(&CheckParams::new("c", "messages"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(err.api().unwrap().code(), "rate_limit_exceeded");
    assert_eq!(
        up.seen().len(),
        3,
        "the first attempt and the default two retries"
    );
}

#[tokio::test]
async fn a_read_times_out_on_every_attempt_within_its_deadlines() {
    let (url, up) = server(vec![Fault::Hang]).await;
    let c = Client::builder()
        .secret_key("am_sk_test_client_secret")
        .base_url(&url)
        .timeout(Duration::from_millis(200))
        .retry(
            RetryPolicy::default()
                .with_max_retries(1)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = c
        .customers()
        .get(&GetCustomerParams::new("c"))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(up.seen().len(), 2, "a read is retried after a timeout");
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "two 200 ms attempts took {took:?}"
    );
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_works_without_a_runtime_and_refuses_inside_one() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, up) = rt.block_on(server(vec![ok(
        json!({"allowed": false, "customer_id": "c", "balance": null, "flag": null}),
    )]));
    let c = autumn_tower::blocking::Client::from_builder(
        Client::builder()
            .secret_key("am_sk_test_client_secret")
            .base_url(url),
    )
    .unwrap();
    let r = c.check(&CheckParams::new("c", "messages")).unwrap();
    assert!(!r.allowed);
    assert_eq!(up.seen().len(), 1);
    let err = rt
        .block_on(async { c.check(&CheckParams::new("c", "messages")) })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BlockingInAsyncContext);
}
