//! AutumnService through its public API, with an in-memory transport (no sockets): routing, identify,
//! protected fields, body limits, error mapping.

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

mod support;

use autumn_tower::{AutumnLayer, AutumnService};
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use support::memory_autumn::MemoryAutumn;
use support::Fault;
use tower::ServiceExt;

/// The in-memory Autumn; it answers `{}` wherever nothing else is scripted.
fn upstream() -> MemoryAutumn {
    MemoryAutumn::new(json!({}))
}

use support::identify::{by_headers as identify, ByHeaders as Identifier};

fn service(up: &MemoryAutumn) -> AutumnService<Identifier> {
    AutumnService::builder()
        .secret_key("am_sk_test_service")
        .base_url("http://autumn.invalid")
        .transport(up.transport())
        .configure_client(|c| {
            c.timeout(Duration::from_millis(300))
                .retry(autumn_tower::RetryPolicy::none())
        })
        .identify(identify as Identifier)
        .build()
        .unwrap()
}

fn post(path: &str, customer: Option<&str>, body: &str) -> Request<Full<Bytes>> {
    // autumn-js's client always declares its JSON body (the service refuses other POSTs).
    let mut b = Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .uri(path)
        .header("content-type", "application/json");
    if let Some(c) = customer {
        b = b.header("x-customer-id", c);
    }
    b.body(Full::new(Bytes::from(body.to_owned()))).unwrap()
}

async fn send(
    svc: &AutumnService<Identifier>,
    req: Request<Full<Bytes>>,
) -> (StatusCode, http::HeaderMap, Value) {
    let resp = svc.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("every answer is JSON")
    };
    (parts.status, parts.headers, v)
}

/// Every route, identified: one upstream call to its path, with the identified customer and the headers.
#[tokio::test]
async fn every_route_reaches_its_upstream_path() {
    let cases = [
        (
            "getOrCreateCustomer",
            "/v1/customers.get_or_create",
            json!({}),
        ),
        (
            "getEntity",
            "/v1/entities.get",
            json!({"entityId": "seat_1"}),
        ),
        ("attach", "/v1/billing.attach", json!({"planId": "pro"})),
        (
            "previewAttach",
            "/v1/billing.preview_attach",
            json!({"planId": "pro"}),
        ),
        (
            "updateSubscription",
            "/v1/billing.update",
            json!({"planId": "pro"}),
        ),
        (
            "previewUpdateSubscription",
            "/v1/billing.preview_update",
            json!({"planId": "pro"}),
        ),
        (
            "multiAttach",
            "/v1/billing.multi_attach",
            json!({"plans": [{"planId": "pro"}]}),
        ),
        (
            "previewMultiAttach",
            "/v1/billing.preview_multi_attach",
            json!({"plans": [{"planId": "pro"}]}),
        ),
        ("setupPayment", "/v1/billing.setup_payment", json!({})),
        (
            "openCustomerPortal",
            "/v1/billing.open_customer_portal",
            json!({}),
        ),
        (
            "createReferralCode",
            "/v1/referrals.create_code",
            json!({"programId": "p1"}),
        ),
        (
            "redeemReferralCode",
            "/v1/referrals.redeem_code",
            json!({"code": "ABC"}),
        ),
        ("listPlans", "/v1/plans.list", json!({})),
        ("listEvents", "/v1/events.list", json!({})),
        (
            "aggregateEvents",
            "/v1/events.aggregate",
            json!({"featureId": "messages"}),
        ),
    ];
    for (route, upstream_path, body) in cases {
        let up = upstream();
        let svc = service(&up);
        let (status, headers, _) = send(
            &svc,
            post(
                &format!("/api/autumn/{route}"),
                Some("cus_1"),
                &body.to_string(),
            ),
        )
        .await;
        let seen = up.seen();
        assert_eq!(seen.len(), 1, "{route}: one upstream call");
        assert_eq!(seen[0].path(), upstream_path, "{route}");
        assert_eq!(seen[0].json()["customer_id"], "cus_1", "{route}");
        assert_eq!(
            seen[0].headers["authorization"],
            "Bearer am_sk_test_service"
        );
        assert_eq!(seen[0].headers["x-api-version"], "2.4.0");
        assert_eq!(seen[0].headers["content-type"], "application/json");
        assert!(seen[0].headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("autumn-rs/"));
        // Browser cookies and auth never go upstream.
        assert!(seen[0].headers.get("cookie").is_none());
        // A route the fake answers with an empty object may fail its response schema; the status is
        // then 502 invalid_upstream_response, never a success built from nothing.
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_GATEWAY,
            "{route}: {status}"
        );
        if status == StatusCode::OK {
            assert_eq!(headers["content-type"], "application/json");
        }
    }
}

#[tokio::test]
async fn prefix_may_be_present_or_stripped() {
    let up = upstream();
    let svc = service(&up);
    for path in [
        "/api/autumn/listPlans",
        "/listPlans",
        "//api/autumn//listPlans/",
    ] {
        let (status, _, _) = send(&svc, post(path, Some("c"), "{}")).await;
        assert_ne!(status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(up.seen().len(), 3);
    for path in [
        "/api/autumn/ListPlans",
        "/API/autumn/listPlans",
        "/api/autumn/listPlans/extra",
        "/api/autumn",
        "/",
    ] {
        let (status, _, body) = send(&svc, post(path, Some("c"), "{}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            body,
            json!({"message":"Not found","code":"not_found","statusCode":404})
        );
    }
    assert_eq!(up.seen().len(), 3);
}

#[tokio::test]
async fn anonymous_callers_reach_only_the_public_routes() {
    let up = upstream();
    let svc = service(&up);
    let (status, _, body) = send(
        &svc,
        post("/api/autumn/attach", None, r#"{"planId":"pro"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "no_customer_id");
    assert_eq!(body["statusCode"], 401);
    assert_eq!(
        body["message"],
        "customerId returned from identify function is null"
    );

    let (status, _, body) = send(&svc, post("/api/autumn/getOrCreateCustomer", None, "{}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"message":"customerId not found","code":"no_customer_id","statusCode":401})
    );

    let (status, _, body) = send(
        &svc,
        post(
            "/api/autumn/getOrCreateCustomer",
            None,
            r#"{"errorOnNotFound":false}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);

    // Only the boolean false counts.
    let (status, _, _) = send(
        &svc,
        post(
            "/api/autumn/getOrCreateCustomer",
            None,
            r#"{"errorOnNotFound":"false"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An empty id is anonymous too.
    let (status, _, _) = send(
        &svc,
        post("/api/autumn/attach", Some(""), r#"{"planId":"pro"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        up.seen().is_empty(),
        "no upstream call for anonymous callers"
    );

    // listPlans works anonymously, and a spoofed customer id is not forwarded.
    let (status, _, _) = send(
        &svc,
        post("/api/autumn/listPlans", None, r#"{"customerId":"victim"}"#),
    )
    .await;
    assert_ne!(status, StatusCode::UNAUTHORIZED);
    let seen = up.seen();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].json().get("customer_id").is_none(),
        "{:?}",
        seen[0].json()
    );
}

#[tokio::test]
async fn protected_fields_cannot_be_spoofed() {
    let up = upstream();
    let svc = service(&up);
    let req = Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .uri("/api/autumn/getOrCreateCustomer")
        .header("x-customer-id", "real")
        .header("x-customer-name", "Real Name")
        .header("x-customer-email", "real@example.com")
        .header("cookie", "session=secret")
        .body(Full::new(Bytes::from(
            json!({
                "customerId": "victim", "customer_id": "victim2", "name": "Evil", "email": "evil@x",
                "customerData": {"name": "Evil"}, "stripeId": "cus_evil", "metadata": {"admin": true}
            })
            .to_string(),
        )))
        .unwrap();
    send(&svc, req).await;
    let seen = up.seen();
    let body = seen[0].json();
    assert_eq!(body["customer_id"], "real");
    assert_eq!(body["name"], "Real Name");
    assert_eq!(body["email"], "real@example.com");
    let text = body.to_string();
    for bad in ["victim", "Evil", "evil@x", "cus_evil", "admin"] {
        assert!(!text.contains(bad), "{bad} leaked into {text}");
    }
    assert!(body["expand"]
        .as_array()
        .unwrap()
        .contains(&json!("balances.feature")));
    assert!(seen[0].headers.get("cookie").is_none());

    let up = upstream();
    let svc = service(&up);
    send(
        &svc,
        post(
            "/api/autumn/attach",
            Some("real"),
            r#"{"planId":"pro","customerId":"victim","customer_id":"victim","stripeId":"x"}"#,
        ),
    )
    .await;
    let body = up.seen()[0].json().clone();
    assert_eq!(body["customer_id"], "real");
    assert!(!body.to_string().contains("victim"));
}

#[tokio::test]
async fn bad_bodies_are_400_before_any_upstream_call() {
    let up = upstream();
    let svc = service(&up);
    for (body, code) in [
        ("{not json", "invalid_json"),
        ("[1,2]", "invalid_json"),
        ("\"text\"", "invalid_json"),
        ("{\"planId\": \"\u{0}\" ", "invalid_json"),
    ] {
        let (status, _, v) = send(&svc, post("/api/autumn/attach", Some("c"), body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(v["code"], code, "{body}");
        assert_eq!(v["statusCode"], 400);
    }
    let deep = "[".repeat(100_000);
    let (status, _, v) = send(&svc, post("/api/autumn/attach", Some("c"), &deep)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["code"], "invalid_json");
    assert!(up.seen().is_empty());

    // An empty body is "no body".
    let (status, _, _) = send(&svc, post("/api/autumn/listPlans", Some("c"), "")).await;
    assert_ne!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let up = upstream();
    let svc = service(&up);
    for method in ["GET", "PUT", "DELETE", "OPTIONS"] {
        let req = Request::builder()
            .method(method)
            .uri("/api/autumn/attach")
            .header("x-customer-id", "c")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let (status, headers, body) = send(&svc, req).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(headers["allow"], "POST");
        assert_eq!(body["code"], "method_not_allowed");
    }
    assert!(up.seen().is_empty());
}

/// A body that never ends, counting the bytes it was asked for.
struct Endless {
    pulled: Arc<Mutex<usize>>,
}

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        *self.pulled.lock().unwrap() += 64 * 1024;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b' '; 64 * 1024])))))
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_without_reading_them_whole() {
    let up = upstream();
    let svc = service(&up);
    // Declared too large: refused before reading anything.
    let req = Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .uri("/api/autumn/attach")
        .header("x-customer-id", "c")
        .header("content-length", "5000000")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let (status, _, body) = send(&svc, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "payload_too_large");

    // Streamed without a length: reading stops just past the limit.
    let pulled = Arc::new(Mutex::new(0));
    let req = Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .uri("/api/autumn/attach")
        .header("x-customer-id", "c")
        .body(Endless {
            pulled: pulled.clone(),
        })
        .unwrap();
    let resp = svc.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(*pulled.lock().unwrap() <= 1024 * 1024 + 64 * 1024);
    assert!(up.seen().is_empty());
}

#[tokio::test]
async fn identify_errors_are_500_json() {
    let up = upstream();
    let svc = service(&up);
    let req = Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .uri("/api/autumn/attach")
        .header("x-identify-fails", "1")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let (status, _, body) = send(&svc, req).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["statusCode"], 500);
    assert!(
        !body.to_string().contains("session store"),
        "internal detail leaked"
    );
    assert!(up.seen().is_empty());
}

#[tokio::test]
async fn upstream_failures_map_to_defined_answers() {
    let up = upstream();
    let svc = service(&up);
    let path = "/v1/billing.attach";
    let body = r#"{"planId":"pro"}"#;

    up.answer(
        path,
        Fault::Status {
            status: 404,
            body: json!({"message": "Plan pro not found", "code": "plan_not_found", "extra": 1}),
        },
    );
    let (status, _, v) = send(&svc, post("/api/autumn/attach", Some("c"), body)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        v,
        json!({"message": "Plan pro not found", "code": "plan_not_found", "statusCode": 404})
    );

    up.answer(
        path,
        Fault::Status {
            status: 400,
            body: json!({"message": "bad"}),
        },
    );
    let (status, _, v) = send(&svc, post("/api/autumn/attach", Some("c"), body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v,
        json!({"message": "bad", "code": "autumn_api_error", "statusCode": 400})
    );

    up.answer(
        path,
        Fault::Raw {
            status: 200,
            body: "<html>oops</html>".into(),
            content_type: None,
        },
    );
    let (status, _, v) = send(&svc, post("/api/autumn/attach", Some("c"), body)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(v["code"], "invalid_upstream_response");

    up.answer(path, Fault::Reset);
    let (status, _, v) = send(&svc, post("/api/autumn/attach", Some("c"), body)).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(v["code"], "upstream_unavailable");

    up.answer(path, Fault::Hang);
    let started = std::time::Instant::now();
    let (status, _, v) = send(&svc, post("/api/autumn/attach", Some("c"), body)).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(v["code"], "upstream_timeout");
    assert!(started.elapsed() < Duration::from_secs(2));

    // A write is never repeated: five calls above, five upstream requests.
    assert_eq!(up.seen().len(), 5);
    assert!(!v.to_string().contains("am_sk_test_service"));
}

#[tokio::test]
async fn layer_passes_other_requests_through_untouched() {
    let up = upstream();
    let svc = service(&up);
    let inner = tower::service_fn(|req: Request<Full<Bytes>>| async move {
        let ext = req
            .extensions()
            .get::<&'static str>()
            .copied()
            .unwrap_or("none");
        let body = req.into_body().collect().await.unwrap().to_bytes();
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
            "inner saw {} bytes, ext {ext}",
            body.len()
        )))))
    });
    let app = tower::Layer::layer(&AutumnLayer::new(svc), inner);

    let mut req = Request::builder()
        .method("POST")
        .header("content-type", "application/json")
        .uri("/other/path")
        .body(Full::new(Bytes::from_static(b"hello")))
        .unwrap();
    req.extensions_mut().insert("marker");
    let resp = app.clone().oneshot(req).await.unwrap();
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&text[..], b"inner saw 5 bytes, ext marker");

    let resp = app
        .clone()
        .oneshot(post("/api/autumnx/listPlans", Some("c"), "{}"))
        .await
        .unwrap();
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(text.starts_with(b"inner saw"));

    let resp = app
        .oneshot(post("/api/autumn/listPlans", Some("c"), "{}"))
        .await
        .unwrap();
    assert_ne!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(up.seen().len(), 1);
}

#[test]
fn service_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<AutumnService<Identifier>>();
    let up = upstream();
    let svc = service(&up);
    let debug = format!("{svc:?}");
    assert!(!debug.contains("am_sk_test_service"), "{debug}");
}

/// A ready-made client with its own (unboxed) transport type builds a service, keeping the builder's
/// other settings.
#[tokio::test]
async fn a_ready_made_client_of_any_transport_builds() {
    let up = MemoryAutumn::new(json!({"list": []}));
    let client = autumn_tower::Client::builder()
        .secret_key("am_sk_test_ready")
        .base_url("http://autumn.invalid")
        .build_with_transport(up.transport())
        .unwrap();
    let svc = AutumnService::builder()
        .prefix("/billing")
        .client(client)
        .identify(identify as Identifier)
        .build()
        .unwrap();
    assert_eq!(svc.prefix(), "/billing");
    let req = post("/billing/listPlans", Some("cus_ready"), "{}");
    let resp = svc.clone().oneshot(req).await.unwrap();
    assert_ne!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(up.seen().len(), 1, "the call went through the given client");
    assert_eq!(up.seen()[0].path(), "/v1/plans.list");
}
