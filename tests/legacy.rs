//! The legacy protocol (`Protocol::Legacy`: autumn-js 0.x and the Python SDK's routes) and the v1.2 client
//! (`client.legacy()`), through the public API with an in-memory Autumn (no sockets): each route's upstream
//! call, anonymous callers, answers and errors, and that nothing a browser sends can name another customer.
//!
//! The differential comparison with autumn-js 0.1.85 itself is `tests/legacy_conformance.rs`.

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

use std::time::Duration;

use autumn_tower::client::legacy::{
    AggregateEventsParams, AttachParams, BillingPortalParams, CancelParams, CheckParams,
    CreateCustomerParams, CreateEntityParams, CreateReferralCodeParams, ListEventsParams,
    QueryParams, RedeemReferralCodeParams, SetupPaymentParams, TrackParams,
};
mod support;

use autumn_tower::{AutumnService, Protocol};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use proptest::prelude::*;
use serde_json::{json, Value};
use support::memory_autumn::{MemoryAutumn, Seen};
use support::Fault;
use tower::ServiceExt;

/// The in-memory Autumn; it answers `{"ok": true}` wherever nothing else is scripted.
fn upstream() -> MemoryAutumn {
    MemoryAutumn::new(json!({"ok": true}))
}

use support::identify::{by_headers as identify, ByHeaders as Identifier};

const SECRET: &str = "am_sk_test_legacy";

fn service(up: &MemoryAutumn) -> AutumnService<Identifier> {
    AutumnService::builder()
        .secret_key(SECRET)
        .base_url("http://autumn.invalid")
        .transport(up.transport())
        .protocol(Protocol::Legacy)
        .configure_client(|c| {
            c.timeout(Duration::from_millis(300))
                .retry(autumn_tower::RetryPolicy::none())
        })
        .identify(identify as Identifier)
        // These tests check the conversion of what is forwarded, so the app widens the lists to the
        // fields they send (the default lists are tests/secure_defaults.rs's subject).
        .allow_fields("attach", ["checkout_session_params", "metadata", "reward"])
        .allow_fields("setup_payment", ["checkout_session_params"])
        .allow_fields("billing_portal", ["some_key"])
        .allow_fields("track", ["properties"])
        .build()
        .unwrap()
}

fn request(method: &str, path: &str, customer: Option<&str>, body: &str) -> Request<Full<Bytes>> {
    let mut b = Request::builder().method(method).uri(path);
    if method == "POST" {
        b = b.header("content-type", "application/json");
    }
    if let Some(c) = customer {
        b = b
            .header("x-customer-id", c)
            .header("x-customer-name", "Ada")
            .header("x-customer-email", "ada@example.com");
    }
    b.body(Full::new(Bytes::from(body.to_owned()))).unwrap()
}

/// Status, headers and the body (`Value::Null` for an empty one; the body must be JSON).
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

const ADA: &str = r#"{"name":"Ada","email":"ada@example.com"}"#;

fn ada() -> Value {
    serde_json::from_str(ADA).unwrap()
}

/// Browser method, route, body; upstream method, target, body.
type RouteCase = (
    &'static str,
    &'static str,
    Value,
    &'static str,
    &'static str,
    Option<Value>,
);

/// Every route, identified as `cus_1`: exactly one upstream call, its method, path and query, and body.
#[tokio::test]
async fn every_route_makes_its_v1_2_call() {
    #[rustfmt::skip]
    let cases: Vec<RouteCase> = vec![
        ("POST", "attach", json!({"productId": "pro", "successUrl": "https://app/ok"}),
            "POST", "/v1/attach",
            Some(json!({"product_id": "pro", "success_url": "https://app/ok", "customer_id": "cus_1", "customer_data": ada()}))),
        ("POST", "checkout", json!({"productId": "pro", "options": [{"featureId": "seats", "quantity": 3}]}),
            "POST", "/v1/checkout",
            Some(json!({"product_id": "pro", "options": [{"feature_id": "seats", "quantity": 3}], "customer_id": "cus_1", "customer_data": ada()}))),
        ("POST", "setup_payment", json!({"successUrl": null, "checkoutSessionParams": {"customText": {"a": 1}}}),
            "POST", "/v1/setup_payment",
            Some(json!({"checkout_session_params": {"customText": {"a": 1}}, "customer_id": "cus_1", "customer_data": ada()}))),
        ("POST", "cancel", json!({"productId": "pro", "cancelImmediately": true}),
            "POST", "/v1/cancel",
            Some(json!({"product_id": "pro", "cancel_immediately": true, "customer_id": "cus_1"}))),
        ("POST", "check", json!({"featureId": "messages", "requiredBalance": 2, "withPreview": true}),
            "POST", "/v1/check",
            Some(json!({"feature_id": "messages", "required_balance": 2, "with_preview": true, "customer_id": "cus_1", "customer_data": ada()}))),
        ("POST", "track", json!({"featureId": "messages", "value": 1.5, "properties": {"chatId": "c1"}}),
            "POST", "/v1/track",
            Some(json!({"feature_id": "messages", "value": 1.5, "properties": {"chatId": "c1"}, "customer_id": "cus_1", "customer_data": ada()}))),
        ("POST", "query", json!({"featureId": ["a", "b"], "range": "7d"}),
            "POST", "/v1/query",
            Some(json!({"feature_id": ["a", "b"], "range": "7d", "customer_id": "cus_1"}))),
        ("POST", "customers", json!({"expand": ["invoices", "entities"], "errorOnNotFound": true}),
            "POST", "/v1/customers?expand=invoices,entities",
            Some(json!({"id": "cus_1", "name": "Ada", "email": "ada@example.com", "expand": ["invoices", "entities"], "error_on_not_found": true}))),
        ("POST", "billing_portal", json!({"returnUrl": "https://app/back"}),
            "POST", "/v1/customers/cus_1/billing_portal",
            Some(json!({"return_url": "https://app/back"}))),
        ("POST", "entities", json!({"id": "seat_1", "name": "Seat", "featureId": "seats"}),
            "POST", "/v1/customers/cus_1/entities",
            Some(json!({"id": "seat_1", "name": "Seat", "feature_id": "seats"}))),
        ("POST", "entities", json!([{"id": "a", "featureId": "seats"}, {"id": "b", "featureId": "seats"}]),
            "POST", "/v1/customers/cus_1/entities",
            Some(json!([{"id": "a", "feature_id": "seats"}, {"id": "b", "feature_id": "seats"}]))),
        ("GET", "entities/seat_1?expand=invoices", Value::Null,
            "GET", "/v1/customers/cus_1/entities/seat_1?expand=invoices", None),
        ("GET", "entities/seat_1", Value::Null,
            "GET", "/v1/customers/cus_1/entities/seat_1", None),
        ("DELETE", "entities/seat%201", Value::Null,
            "DELETE", "/v1/customers/cus_1/entities/seat%201", None),
        ("GET", "products", Value::Null,
            "GET", "/v1/products_beta?customer_id=cus_1", None),
        ("GET", "components/pricing_table", Value::Null,
            "GET", "/v1/components/pricing_table?customer_id=cus_1", None),
        ("POST", "referrals/code", json!({"programId": "prog_1"}),
            "POST", "/v1/referrals/code",
            Some(json!({"program_id": "prog_1", "customer_id": "cus_1"}))),
        ("POST", "referrals/redeem", json!({"code": "ABC"}),
            "POST", "/v1/referrals/redeem",
            Some(json!({"code": "ABC", "customer_id": "cus_1"}))),
        ("POST", "events/list", json!({"featureId": "messages", "customRange": {"start": 1, "end": 2}}),
            "POST", "/v1/events/list",
            Some(json!({"feature_id": "messages", "custom_range": {"start": 1, "end": 2}, "customer_id": "cus_1"}))),
        ("POST", "events/aggregate", json!({"featureId": "messages", "groupBy": "properties.region"}),
            "POST", "/v1/events/aggregate",
            Some(json!({"feature_id": "messages", "group_by": "properties.region", "customer_id": "cus_1"}))),
    ];
    for (method, route, body, up_method, up_target, up_body) in cases {
        let up = upstream();
        let svc = service(&up);
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let (status, headers, answer) = send(
            &svc,
            request(
                method,
                &format!("/api/autumn/{route}"),
                Some("cus_1"),
                &body,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{method} {route}: {answer}");
        assert_eq!(answer, json!({"ok": true}), "{route}");
        assert_eq!(headers["content-type"], "application/json");
        let seen = up.seen();
        assert_eq!(seen.len(), 1, "{route}: one upstream call");
        let call = &seen[0];
        assert_eq!(call.method.as_str(), up_method, "{route}");
        assert_eq!(call.target, up_target, "{route}");
        assert_eq!(call.body, up_body, "{method} {route}");
        assert_eq!(call.headers["x-api-version"], "1.2", "{route}");
        assert_eq!(call.headers["authorization"], "Bearer am_sk_test_legacy");
        assert_eq!(call.headers["content-type"], "application/json");
    }
}

#[tokio::test]
async fn anonymous_callers_reach_only_the_public_routes() {
    let up = upstream();
    let svc = service(&up);
    for (method, route) in [
        ("POST", "attach"),
        ("POST", "customers"),
        ("POST", "billing_portal"),
        ("POST", "entities"),
        ("GET", "entities/e1"),
        ("DELETE", "entities/e1"),
        ("POST", "referrals/code"),
        ("POST", "events/aggregate"),
    ] {
        let (status, _, body) = send(
            &svc,
            request(method, &format!("/api/autumn/{route}"), None, "{}"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{route}");
        assert_eq!(
            body,
            json!({"message": "customerId returned from identify function is undefined", "code": "no_customer_id"}),
            "{route}"
        );
    }
    // An empty id is anonymous too, and a body that is not JSON does not change the answer.
    let (status, _, _) = send(
        &svc,
        request("POST", "/api/autumn/check", Some(""), "{not json"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // `errorOnNotFound: false` (as sent, camelCase, the boolean only) asks for a quiet 202 `null`.
    for route in ["customers", "attach"] {
        let (status, _, body) = send(
            &svc,
            request(
                "POST",
                &format!("/api/autumn/{route}"),
                None,
                r#"{"errorOnNotFound":false}"#,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{route}");
        assert_eq!(body, Value::Null);
    }
    for body in [
        r#"{"errorOnNotFound":"false"}"#,
        r#"{"error_on_not_found":false}"#,
    ] {
        let (status, _, _) = send(&svc, request("POST", "/api/autumn/customers", None, body)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    assert!(
        up.take().is_empty(),
        "no upstream call for anonymous callers"
    );

    // Products, the pricing table and cors serve anonymous callers, without a customer.
    let (status, _, _) = send(&svc, request("GET", "/api/autumn/products", None, "")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(
        &svc,
        request("GET", "/api/autumn/components/pricing_table", None, ""),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = send(&svc, request("POST", "/api/autumn/cors", None, "")).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"message": "OK"})));
    let seen = up.take();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].target, "/v1/products_beta");
    assert_eq!(seen[1].target, "/v1/components/pricing_table");
}

#[tokio::test]
async fn routing_methods_and_slashes() {
    let up = upstream();
    let svc = service(&up);
    for path in [
        "/api/autumn/check/",
        "/check",
        "/check/",
        "/api/autumn//check",
        "//api//autumn/check//",
    ] {
        let (status, _, _) = send(&svc, request("POST", path, Some("c"), "{}")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    assert_eq!(up.take().len(), 5);
    for (method, path, allow) in [
        ("GET", "/api/autumn/attach", "POST"),
        ("POST", "/api/autumn/products", "GET"),
        ("PUT", "/api/autumn/entities/e1/", "GET, DELETE"),
        ("GET", "/api/autumn/entities", "POST"),
        ("GET", "/api/autumn/cors", "POST"),
    ] {
        let (status, headers, body) = send(&svc, request(method, path, Some("c"), "")).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(headers["allow"], allow, "{method} {path}");
        assert_eq!(body["code"], "method_not_allowed");
    }
    for (method, path) in [
        ("POST", "/api/autumn/Attach"),
        ("POST", "/api/autumn/attach/extra"),
        ("POST", "/api/autumn/getOrCreateCustomer"),
        ("POST", "/api/autumn/customers/cus_2/entities/"),
        ("DELETE", "/api/autumn/customers/cus_2/entities/e1"),
        ("GET", "/api/autumn/entities/e1/extra"),
        ("GET", "/api/autumn/entities/.."),
        ("DELETE", "/api/autumn/entities/%2e%2E"),
        ("DELETE", "/api/autumn/entities/%2E"),
    ] {
        let (status, _, body) = send(&svc, request(method, path, Some("c"), "")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(body["code"], "not_found");
    }
    assert!(up.take().is_empty());
}

/// Ids and query values from the browser are re-encoded, so none of them can leave its place.
#[tokio::test]
async fn ids_and_expand_stay_in_their_place() {
    let up = upstream();
    let svc = service(&up);
    for (path, target) in [
        (
            "/api/autumn/entities/..%2F..%2Fcus_2",
            "/v1/customers/c/entities/..%2F..%2Fcus_2",
        ),
        (
            "/api/autumn/entities/a%3Fcustomer_id=cus_2",
            "/v1/customers/c/entities/a%3Fcustomer_id%3Dcus_2",
        ),
        // `;` starts path parameters for some servers (`..;` is `..` to Tomcat and Jetty): encoded, as
        // is every other reserved character.
        ("/api/autumn/entities/..;", "/v1/customers/c/entities/..%3B"),
        (
            "/api/autumn/entities/..;x=y",
            "/v1/customers/c/entities/..%3Bx%3Dy",
        ),
        (
            "/api/autumn/entities/a;b,c=d@e:f!g$h&i'j(k)l*m+n",
            "/v1/customers/c/entities/a%3Bb%2Cc%3Dd%40e%3Af%21g%24h%26i%27j%28k%29l%2Am%2Bn",
        ),
        (
            "/api/autumn/entities/e1?expand=invoices%26customer_id%3Dcus_2",
            "/v1/customers/c/entities/e1?expand=invoices%26customer_id%3Dcus_2",
        ),
        (
            "/api/autumn/entities/e1?expand=a,b&expand=invoices",
            "/v1/customers/c/entities/e1?expand=invoices",
        ),
        (
            "/api/autumn/entities/e1?expand=",
            "/v1/customers/c/entities/e1?expand=",
        ),
        (
            "/api/autumn/entities/e1?customer_id=cus_2",
            "/v1/customers/c/entities/e1",
        ),
    ] {
        send(&svc, request("GET", path, Some("c"), "")).await;
        let seen = up.take();
        assert_eq!(seen.len(), 1, "{path}");
        assert_eq!(seen[0].target, target, "{path}");
    }
    // The identified id is encoded too: an id with a slash stays one segment.
    send(
        &svc,
        request("DELETE", "/api/autumn/entities/e1", Some("org/1"), ""),
    )
    .await;
    send(
        &svc,
        request("GET", "/api/autumn/products", Some("a b&c"), ""),
    )
    .await;
    send(
        &svc,
        request("DELETE", "/api/autumn/entities/..;", Some("o;p@q"), ""),
    )
    .await;
    let seen = up.take();
    assert_eq!(seen[0].target, "/v1/customers/org%2F1/entities/e1");
    assert_eq!(seen[1].target, "/v1/products_beta?customer_id=a+b%26c");
    assert_eq!(seen[2].target, "/v1/customers/o%3Bp%40q/entities/..%3B");
}

#[tokio::test]
async fn bodies_are_converted_like_autumn_js() {
    let up = upstream();
    let svc = service(&up);
    let body = json!({
        "productId": "pro",
        "successUrl": null,
        "checkoutSessionParams": {"allowPromotionCodes": true, "subscriptionData": {"trialPeriodDays": 3}},
        "options": [{"featureId": "seats", "quantity": 2}],
        "metadata": {"someKey": "v"},
        "reward": "PROMO",
    });
    send(
        &svc,
        request("POST", "/api/autumn/attach", Some("c"), &body.to_string()),
    )
    .await;
    assert_eq!(
        up.take()[0].body,
        Some(json!({
            "product_id": "pro",
            "checkout_session_params": {"allowPromotionCodes": true, "subscriptionData": {"trialPeriodDays": 3}},
            "options": [{"feature_id": "seats", "quantity": 2}],
            "metadata": {"some_key": "v"},
            "reward": "PROMO",
            "customer_id": "c",
            "customer_data": ada(),
        }))
    );
    // `return_url: null` is dropped; the later of two keys with the same snake_case name wins.
    send(
        &svc,
        request(
            "POST",
            "/api/autumn/billing_portal",
            Some("c"),
            r#"{"returnUrl":null,"some_key":1,"someKey":2}"#,
        ),
    )
    .await;
    assert_eq!(up.take()[0].body, Some(json!({"some_key": 2})));
    // No body on `entities` is forwarded as `null`, as autumn-js does.
    send(&svc, request("POST", "/api/autumn/entities", Some("c"), "")).await;
    assert_eq!(up.take()[0].body, Some(Value::Null));

    // Our deliberate differences: bodies that are not JSON objects, and repeated keys, are refused.
    for (route, body) in [
        ("attach", "{nope"),
        ("attach", "[1,2]"),
        ("attach", "\"text\""),
        ("check", r#"{"featureId":"a","featureId":"b"}"#),
        ("entities", "5"),
    ] {
        let (status, _, answer) = send(
            &svc,
            request("POST", &format!("/api/autumn/{route}"), Some("c"), body),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{route} {body}");
        assert_eq!(answer["code"], "invalid_json");
        assert_eq!(answer["statusCode"], 400);
    }
    let (status, _, answer) = send(
        &svc,
        request(
            "POST",
            "/api/autumn/customers",
            Some("c"),
            r#"{"expand":"invoices"}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["code"], "invalid_request");
    assert!(up.take().is_empty());
}

#[tokio::test]
async fn upstream_answers_and_failures_map_to_defined_answers() {
    let up = upstream();
    let svc = service(&up);
    let call = |route: &'static str| request("POST", route, Some("c"), "{}");

    up.answer(
        "/v1/attach",
        Fault::Status {
            status: 201,
            body: json!({"code": "new_product_attached"}),
        },
    );
    let (status, _, body) = send(&svc, call("/api/autumn/attach")).await;
    assert_eq!(
        (status, body),
        (StatusCode::CREATED, json!({"code": "new_product_attached"}))
    );

    for falsy in [json!(null), json!(false), json!(0), json!("")] {
        up.answer(
            "/v1/check",
            Fault::Status {
                status: 200,
                body: falsy.clone(),
            },
        );
        let (status, _, body) = send(&svc, call("/api/autumn/check")).await;
        assert_eq!((status, body), (StatusCode::OK, Value::Null), "{falsy}");
    }

    up.answer(
        "/v1/track",
        Fault::Status {
            status: 404,
            body: json!({"message": "Feature not found", "code": "feature_not_found", "env": "sandbox"}),
        },
    );
    let (status, _, body) = send(&svc, call("/api/autumn/track")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"message": "Feature not found", "code": "feature_not_found"})
    );

    up.answer(
        "/v1/cancel",
        Fault::Status {
            status: 400,
            body: json!({"message": "no code"}),
        },
    );
    let (status, _, body) = send(&svc, call("/api/autumn/cancel")).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"message": "no code"}))
    );

    // An upstream that echoes the secret key never shows it to the browser.
    up.answer(
        "/v1/query",
        Fault::Status {
            status: 401,
            body: json!({"message": format!("bad key {SECRET}"), "code": "unauthorized"}),
        },
    );
    let (_, _, body) = send(&svc, call("/api/autumn/query")).await;
    assert!(!body.to_string().contains(SECRET), "{body}");

    up.answer(
        "/v1/checkout",
        Fault::Raw {
            status: 503,
            body: "<html>busy</html>".into(),
            content_type: None,
        },
    );
    let (status, _, body) = send(&svc, call("/api/autumn/checkout")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "autumn_api_error");
    assert!(!body.to_string().contains("busy"));

    up.answer(
        "/v1/setup_payment",
        Fault::Raw {
            status: 200,
            body: "<html>ok</html>".into(),
            content_type: None,
        },
    );
    let (status, _, body) = send(&svc, call("/api/autumn/setup_payment")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["code"], "invalid_upstream_response");

    up.answer("/v1/events/list", Fault::Reset);
    let (status, _, body) = send(&svc, call("/api/autumn/events/list")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["code"], "upstream_unavailable");

    up.answer("/v1/events/aggregate", Fault::Hang);
    let (status, _, body) = send(&svc, call("/api/autumn/events/aggregate")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(body["code"], "upstream_timeout");
}

/// A check that records usage is a write: not retried; a plain check is.
#[tokio::test]
async fn only_reads_are_retried() {
    let up = upstream();
    up.answer(
        "/v1/check",
        Fault::Status {
            status: 503,
            body: json!({"message": "busy", "code": "busy"}),
        },
    );
    up.answer(
        "/v1/attach",
        Fault::Status {
            status: 503,
            body: json!({"message": "busy", "code": "busy"}),
        },
    );
    let svc = AutumnService::builder()
        .secret_key(SECRET)
        .base_url("http://autumn.invalid")
        .transport(up.transport())
        .protocol(Protocol::Legacy)
        .configure_client(|c| {
            c.retry(
                autumn_tower::RetryPolicy::default()
                    .with_max_retries(1)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
        })
        .identify(identify as Identifier)
        .build()
        .unwrap();
    for (route, body, calls) in [
        ("check", r#"{"featureId":"a"}"#, 2),
        ("check", r#"{"featureId":"a","sendEvent":true}"#, 1),
        ("attach", r#"{"productId":"p"}"#, 1),
    ] {
        let (status, _, _) = send(
            &svc,
            request("POST", &format!("/api/autumn/{route}"), Some("c"), body),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(up.take().len(), calls, "{route} {body}");
    }
}

/// Every legacy route with a request, and where the identified customer must appear upstream.
fn routes() -> Vec<(&'static str, &'static str)> {
    vec![
        ("POST", "attach"),
        ("POST", "checkout"),
        ("POST", "setup_payment"),
        ("POST", "cancel"),
        ("POST", "check"),
        ("POST", "track"),
        ("POST", "query"),
        ("POST", "customers"),
        ("POST", "billing_portal"),
        ("POST", "entities"),
        ("GET", "entities/seat_1"),
        ("DELETE", "entities/seat_1"),
        ("GET", "products"),
        ("GET", "components/pricing_table"),
        ("POST", "referrals/code"),
        ("POST", "referrals/redeem"),
        ("POST", "events/list"),
        ("POST", "events/aggregate"),
    ]
}

const ME: &str = "cus_me";
const VICTIM: &str = "cus_victim";

/// Asserts that `seen` carries `ME` as its customer wherever a customer goes, and `VICTIM` nowhere.
fn assert_only_me(seen: &Seen, context: &str) {
    let text = format!(
        "{} {}",
        seen.target,
        seen.body.as_ref().map(Value::to_string).unwrap_or_default()
    );
    assert!(!text.contains("victim"), "{context}: {text}");
    let path: Vec<&str> = seen.path().split('/').collect();
    if let Some(i) = path.iter().position(|s| *s == "customers") {
        if let Some(id) = path.get(i + 1) {
            assert_eq!(*id, ME, "{context}: path customer");
        }
    }
    if let Some(q) = seen.query() {
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("customer_id=") {
                assert_eq!(v, ME, "{context}: query customer");
            }
        }
    }
    let bodies: Vec<&Value> = match &seen.body {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    };
    for body in bodies {
        if let Some(id) = body.get("customer_id") {
            assert_eq!(id, ME, "{context}: body customer_id");
        }
        if let Some(data) = body.get("customer_data") {
            assert_eq!(data, &json!({}), "{context}: customer_data is identify's");
        }
        if seen.path() == "/v1/customers" {
            assert_eq!(body["id"], ME, "{context}: customer create id");
        }
    }
}

/// The spellings of "customer id" that autumn-js's conversion turns into `customer_id`.
const CUSTOMER_KEYS: &[&str] = &[
    "customer_id",
    "customerId",
    "CustomerId",
    "customerID",
    "customer-id",
    "customer Id",
    "CUSTOMER_ID",
];

/// Hostile requests on every legacy route: a customer id in the body (every spelling that converts to
/// `customer_id`, `customerData`/`customer_data`, and on `customers` the record's `id`, `name`, `email`,
/// `stripeId`, `fingerprint`, `metadata`), in the query, or in a Python-SDK-style path never reaches
/// Autumn: every upstream request names the identified customer only.
#[tokio::test]
async fn no_browser_input_can_name_another_customer() {
    let up = upstream();
    let svc = service(&up);
    let mut hostile = serde_json::Map::new();
    for key in CUSTOMER_KEYS {
        hostile.insert((*key).to_owned(), json!(VICTIM));
    }
    hostile.insert("customerData".into(), json!({"id": VICTIM, "name": VICTIM}));
    hostile.insert(
        "customer_data".into(),
        json!({"id": VICTIM, "email": VICTIM}),
    );
    // On `customers` the record's own fields name the customer too.
    let mut record = hostile.clone();
    for key in ["id", "name", "email", "stripeId", "fingerprint"] {
        record.insert(key.into(), json!(VICTIM));
    }
    record.insert("metadata".into(), json!({"customer_id": VICTIM}));
    let hostile = Value::Object(hostile);
    let record = Value::Object(record);
    let mut calls = 0;
    for (method, route) in routes() {
        for query in ["", "?customer_id=cus_victim&customerId=cus_victim"] {
            let body = if method == "POST" {
                // Entities also take an array of them.
                if route == "entities" && query.is_empty() {
                    json!([hostile.clone(), hostile.clone()]).to_string()
                } else if route == "customers" {
                    record.to_string()
                } else {
                    hostile.to_string()
                }
            } else {
                String::new()
            };
            let req = Request::builder()
                .method(method)
                .uri(format!("/api/autumn/{route}{query}"))
                .header("content-type", "application/json")
                .header("x-customer-id", ME)
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let (status, _, answer) = send(&svc, req).await;
            assert_eq!(status, StatusCode::OK, "{method} {route}{query}: {answer}");
            let seen = up.take();
            assert_eq!(seen.len(), 1, "{method} {route}{query}");
            assert_only_me(&seen[0], &format!("{method} {route}{query}"));
            calls += 1;
        }
    }
    assert_eq!(calls, routes().len() * 2);

    // The Python SDK's entity routes take the customer from the URL: not served at all.
    for (method, path) in [
        ("POST", "/api/autumn/customers/cus_victim/entities"),
        ("POST", "/api/autumn/customers/cus_victim/entities/"),
        ("GET", "/api/autumn/customers/cus_victim/entities/e1/"),
        ("DELETE", "/api/autumn/customers/cus_victim/entities/e1"),
    ] {
        let (status, _, _) = send(&svc, request(method, path, Some(ME), "{}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    // An entity id is an entity id: the customer in the upstream path stays the identified one.
    for id in ["cus_victim", "..%2Fcus_victim", "x%2F..%2F..%2Fcus_victim"] {
        let (status, _, _) = send(
            &svc,
            request(
                "DELETE",
                &format!("/api/autumn/entities/{id}"),
                Some(ME),
                "",
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let seen = up.take();
        let segments: Vec<&str> = seen[0].path().split('/').collect();
        assert_eq!(segments.len(), 6, "{id}: {}", seen[0].target);
        assert_eq!(&segments[..5], ["", "v1", "customers", ME, "entities"]);
    }
    assert!(up.take().is_empty());
}

fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(VICTIM)),
        Just(json!({"id": VICTIM, "name": VICTIM})),
        Just(json!([VICTIM])),
        Just(json!(null)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Any mix of customer-naming keys (any spelling autumn-js converts to `customer_id` or
    /// `customer_data`), on any route, leaves only the identified customer upstream.
    #[test]
    fn identified_customer_is_the_only_customer(
        route in 0usize..18,
        keys in proptest::collection::vec(
            (prop::sample::select(vec![
                "customer_id", "customerId", "CustomerId", "customerID", "customer-id",
                "customer Id", "CUSTOMER_ID", "customer_data", "customerData", "Customer-Data",
            ]), hostile_value()),
            0..5,
        ),
        extra in proptest::collection::btree_map("[a-z][a-zA-Z]{0,8}", "[a-z0-9]{0,6}", 0..4),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let up = upstream();
            let svc = service(&up);
            let (method, path) = routes()[route];
            let mut body = serde_json::Map::new();
            for (k, v) in extra {
                body.insert(k, json!(v));
            }
            for (k, v) in keys {
                body.insert(k.to_owned(), v);
            }
            let body = if method == "POST" { Value::Object(body).to_string() } else { String::new() };
            let req = Request::builder()
                .method(method)
                .uri(format!("/api/autumn/{path}"))
                .header("content-type", "application/json")
                .header("x-customer-id", ME)
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let (status, _, _) = send(&svc, req).await;
            // A body may be refused (e.g. a bad `expand`), but whatever is sent names only `ME`.
            prop_assert!(status == StatusCode::OK || status == StatusCode::BAD_REQUEST);
            for seen in up.take() {
                assert_only_me(&seen, path);
            }
            Ok(())
        })?;
    }
}

// --- The v1.2 client -----------------------------------------------------------------------------

fn client(up: &MemoryAutumn) -> autumn_tower::Client {
    autumn_tower::Client::builder()
        .secret_key(SECRET)
        .base_url("http://autumn.invalid/v1")
        .transport(up.transport())
        .retry(autumn_tower::RetryPolicy::none())
        .build()
        .unwrap()
}

/// Each typed call: its method, path and query, `x-api-version: 1.2` whatever the client's default, and
/// the body in the v1.2 wire format; answers decode into the typed results.
#[tokio::test]
async fn client_calls_speak_v1_2() {
    let up = upstream();
    let c = client(&up);
    let legacy = c.legacy();

    up.answer(
        "/v1/attach",
        Fault::Status {
            status: 200,
            body: json!({"checkout_url": "https://pay", "customer_id": "u1", "product_ids": ["pro"], "code": "checkout_created", "message": "m", "extra_field": 1}),
        },
    );
    let mut attach = AttachParams::product("u1", "pro");
    attach.checkout_session_params = Some(
        json!({"allowPromotionCodes": true})
            .as_object()
            .unwrap()
            .clone(),
    );
    let r = legacy.attach(&attach).await.unwrap();
    assert_eq!(r.checkout_url.as_deref(), Some("https://pay"));
    assert_eq!(r.extra["extra_field"], 1);

    up.answer(
        "/v1/check",
        Fault::Status {
            status: 200,
            body: json!({"allowed": true, "code": "feature_found", "customer_id": "u1", "feature_id": "messages", "balance": 3, "usage": 7}),
        },
    );
    let r = legacy
        .check(&CheckParams::feature("u1", "messages"))
        .await
        .unwrap();
    assert!(r.allowed);
    assert_eq!(r.balance, Some(3.0));
    assert_eq!(r.extra["usage"], 7);

    up.answer("/v1/track", Fault::Status {
        status: 200,
        body: json!({"id": "evt_1", "code": "event_received", "customer_id": "u1", "feature_id": "messages"}),
    });
    let mut track = TrackParams::feature("u1", "messages", 2.0);
    track.idempotency_key = Some("k1".into());
    assert_eq!(
        legacy.track(&track).await.unwrap().id.as_deref(),
        Some("evt_1")
    );

    up.answer(
        "/v1/cancel",
        Fault::Status {
            status: 200,
            body: json!({"success": true, "customer_id": "u1", "product_id": "pro"}),
        },
    );
    let cancel = CancelParams {
        customer_id: "u1".into(),
        product_id: "pro".into(),
        cancel_immediately: Some(true),
        ..Default::default()
    };
    assert_eq!(legacy.cancel(&cancel).await.unwrap().success, Some(true));

    up.answer("/v1/checkout", Fault::Status {
        status: 200,
        body: json!({"url": "https://pay", "customer_id": "u1", "lines": [], "total": 10, "currency": "usd"}),
    });
    assert_eq!(
        legacy
            .checkout(&AttachParams::product("u1", "pro"))
            .await
            .unwrap()
            .total,
        Some(10.0)
    );

    up.answer(
        "/v1/setup_payment",
        Fault::Status {
            status: 200,
            body: json!({"customer_id": "u1", "url": "https://setup"}),
        },
    );
    let setup = SetupPaymentParams {
        customer_id: "u1".into(),
        ..Default::default()
    };
    assert_eq!(
        legacy.setup_payment(&setup).await.unwrap().url,
        "https://setup"
    );

    up.answer(
        "/v1/query",
        Fault::Status {
            status: 200,
            body: json!({"list": [{"period": 1, "messages": 2}]}),
        },
    );
    let query = QueryParams {
        customer_id: "u1".into(),
        feature_id: "messages".into(),
        range: Some("7d".into()),
        ..Default::default()
    };
    assert_eq!(legacy.query(&query).await.unwrap().list.len(), 1);

    up.answer("/v1/customers", Fault::Status {
        status: 200,
        body: json!({"id": "u1", "name": "Ada", "email": null, "products": [], "features": {}, "metadata": {}, "invoices": []}),
    });
    let mut create = CreateCustomerParams::new("u1");
    create.name = Some("Ada".into());
    create.expand = vec!["invoices".into()];
    assert_eq!(
        legacy
            .create_customer(&create)
            .await
            .unwrap()
            .name
            .as_deref(),
        Some("Ada")
    );

    up.answer(
        "/v1/customers/u%2F1",
        Fault::Status {
            status: 200,
            body: json!({"id": "u/1", "name": null, "email": null}),
        },
    );
    assert_eq!(
        legacy
            .get_customer("u/1", &["entities", "invoices"])
            .await
            .unwrap()
            .id
            .as_deref(),
        Some("u/1")
    );

    up.answer(
        "/v1/customers/u1/billing_portal",
        Fault::Status {
            status: 200,
            body: json!({"customer_id": "u1", "url": "https://portal"}),
        },
    );
    let portal = BillingPortalParams {
        return_url: Some("https://back".into()),
        ..Default::default()
    };
    assert_eq!(
        legacy.billing_portal("u1", &portal).await.unwrap().url,
        "https://portal"
    );

    up.answer("/v1/customers/u1/entities", Fault::Status {
        status: 200,
        body: json!({"id": "seat_1", "name": null, "customer_id": "u1", "feature_id": "seats", "products": [], "features": {}}),
    });
    assert_eq!(
        legacy
            .create_entity("u1", &CreateEntityParams::new("seat_1", "seats"))
            .await
            .unwrap()
            .id
            .as_deref(),
        Some("seat_1")
    );
    legacy
        .create_entities(
            "u1",
            &[
                CreateEntityParams::new("a", "seats"),
                CreateEntityParams::new("b", "seats"),
            ],
        )
        .await
        .unwrap();

    up.answer(
        "/v1/customers/u1/entities/seat%201",
        Fault::Status {
            status: 200,
            body: json!({"id": "seat 1", "name": "S"}),
        },
    );
    assert_eq!(
        legacy
            .get_entity("u1", "seat 1", &["invoices"])
            .await
            .unwrap()
            .name
            .as_deref(),
        Some("S")
    );
    up.answer(
        "/v1/customers/u1/entities/seat_1",
        Fault::Status {
            status: 200,
            body: json!({"success": true}),
        },
    );
    assert!(legacy.delete_entity("u1", "seat_1").await.unwrap().success);
    assert!(
        legacy.delete_entity("u1", "..").await.is_err(),
        "a dot segment is never sent"
    );

    up.answer(
        "/v1/products_beta",
        Fault::Status {
            status: 200,
            body: json!({"list": [{"id": "pro", "name": "Pro", "items": [], "scenario": "upgrade"}]}),
        },
    );
    assert_eq!(
        legacy.list_products(Some("u1")).await.unwrap().list[0].extra["scenario"],
        "upgrade"
    );
    legacy.list_products(None).await.unwrap();

    up.answer(
        "/v1/components/pricing_table",
        Fault::Status {
            status: 200,
            body: json!({"list": []}),
        },
    );
    legacy.pricing_table(Some("u1")).await.unwrap();

    up.answer(
        "/v1/referrals/code",
        Fault::Status {
            status: 200,
            body: json!({"code": "REF", "customer_id": "u1", "created_at": 1}),
        },
    );
    let code = CreateReferralCodeParams {
        customer_id: "u1".into(),
        program_id: "p1".into(),
        ..Default::default()
    };
    assert_eq!(
        legacy.create_referral_code(&code).await.unwrap().code,
        "REF"
    );

    up.answer(
        "/v1/referrals/redeem",
        Fault::Status {
            status: 200,
            body: json!({"id": "red_1", "customer_id": "u2", "reward_id": "r1"}),
        },
    );
    let redeem = RedeemReferralCodeParams {
        code: "REF".into(),
        customer_id: "u2".into(),
        ..Default::default()
    };
    assert_eq!(
        legacy.redeem_referral_code(&redeem).await.unwrap().id,
        "red_1"
    );

    up.answer("/v1/events/list", Fault::Status {
        status: 200,
        body: json!({"list": [{"id": "e", "timestamp": 1, "feature_id": "m", "customer_id": "u1", "value": 2, "properties": {}}], "has_more": false, "offset": 0, "limit": 100, "total": 1}),
    });
    let list = ListEventsParams {
        customer_id: "u1".into(),
        feature_id: "m".into(),
        limit: Some(10),
        ..Default::default()
    };
    assert_eq!(legacy.list_events(&list).await.unwrap().list[0].value, 2.0);

    up.answer(
        "/v1/events/aggregate",
        Fault::Status {
            status: 200,
            body: json!({"list": [{"period": 1, "m": 2}], "total": {"m": {"count": 1, "sum": 2}}}),
        },
    );
    let agg = AggregateEventsParams {
        customer_id: "u1".into(),
        feature_id: vec!["m".to_owned()].into(),
        range: Some("30d".into()),
        ..Default::default()
    };
    assert_eq!(legacy.aggregate_events(&agg).await.unwrap().list.len(), 1);

    let seen = up.take();
    let expected: Vec<(&str, &str, Option<Value>)> = vec![
        (
            "POST",
            "/v1/attach",
            Some(
                json!({"customer_id": "u1", "product_id": "pro", "checkout_session_params": {"allowPromotionCodes": true}}),
            ),
        ),
        (
            "POST",
            "/v1/check",
            Some(json!({"customer_id": "u1", "feature_id": "messages"})),
        ),
        (
            "POST",
            "/v1/track",
            Some(
                json!({"customer_id": "u1", "feature_id": "messages", "value": 2.0, "idempotency_key": "k1"}),
            ),
        ),
        (
            "POST",
            "/v1/cancel",
            Some(json!({"customer_id": "u1", "product_id": "pro", "cancel_immediately": true})),
        ),
        (
            "POST",
            "/v1/checkout",
            Some(json!({"customer_id": "u1", "product_id": "pro"})),
        ),
        (
            "POST",
            "/v1/setup_payment",
            Some(json!({"customer_id": "u1"})),
        ),
        (
            "POST",
            "/v1/query",
            Some(json!({"customer_id": "u1", "feature_id": "messages", "range": "7d"})),
        ),
        (
            "POST",
            "/v1/customers?expand=invoices",
            Some(json!({"id": "u1", "name": "Ada"})),
        ),
        ("GET", "/v1/customers/u%2F1?expand=entities,invoices", None),
        (
            "POST",
            "/v1/customers/u1/billing_portal",
            Some(json!({"return_url": "https://back"})),
        ),
        (
            "POST",
            "/v1/customers/u1/entities",
            Some(json!({"id": "seat_1", "feature_id": "seats"})),
        ),
        (
            "POST",
            "/v1/customers/u1/entities",
            Some(json!([{"id": "a", "feature_id": "seats"}, {"id": "b", "feature_id": "seats"}])),
        ),
        (
            "GET",
            "/v1/customers/u1/entities/seat%201?expand=invoices",
            None,
        ),
        ("DELETE", "/v1/customers/u1/entities/seat_1", None),
        ("GET", "/v1/products_beta?customer_id=u1", None),
        ("GET", "/v1/products_beta", None),
        ("GET", "/v1/components/pricing_table?customer_id=u1", None),
        (
            "POST",
            "/v1/referrals/code",
            Some(json!({"customer_id": "u1", "program_id": "p1"})),
        ),
        (
            "POST",
            "/v1/referrals/redeem",
            Some(json!({"code": "REF", "customer_id": "u2"})),
        ),
        (
            "POST",
            "/v1/events/list",
            Some(json!({"customer_id": "u1", "feature_id": "m", "limit": 10})),
        ),
        (
            "POST",
            "/v1/events/aggregate",
            Some(json!({"customer_id": "u1", "feature_id": ["m"], "range": "30d"})),
        ),
    ];
    assert_eq!(seen.len(), expected.len());
    for (seen, (method, target, body)) in seen.iter().zip(expected) {
        assert_eq!(
            (seen.method.as_str(), seen.target.as_str()),
            (method, target)
        );
        assert_eq!(seen.body, body, "{target}");
        assert_eq!(seen.headers["x-api-version"], "1.2", "{target}");
        assert_eq!(seen.headers["authorization"], "Bearer am_sk_test_legacy");
    }

    // Errors come back as API errors with Autumn's code; the client's own calls keep their version.
    up.answer(
        "/v1/attach",
        Fault::Status {
            status: 404,
            body: json!({"message": "Product not found", "code": "product_not_found"}),
        },
    );
    let err = legacy
        .attach(&AttachParams::product("u1", "nope"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(err.api().unwrap().code(), "product_not_found");
    let _ = c
        .plans()
        .list(&autumn_tower::models::ListPlansParams::default())
        .await;
    let seen = up.take();
    assert_eq!(seen.last().unwrap().headers["x-api-version"], "2.4.0");
}
