//! Secure by default: the browser sets only the fields a customer may choose (the allow-lists of
//! `src/fields.rs`), POST routes take only `application/json` (no cross-site form posts), the app's
//! authorize hook can refuse a route (403), and a browser `track` cannot give a balance back.

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

mod support;

use autumn_tower::{fields, AutumnService, Protocol};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use support::identify::{by_headers as identify, ByHeaders as Identifier};
use support::memory_autumn::MemoryAutumn;
use tower::ServiceExt;

/// Who every browser request here is (read by the kit's identify hook).
const ADA: [(&str, &str); 3] = [
    ("x-customer-id", "cus_ada"),
    ("x-customer-name", "Ada"),
    ("x-customer-email", "ada@example.com"),
];

fn builder(
    autumn: &MemoryAutumn,
    protocol: Protocol,
) -> autumn_tower::AutumnServiceBuilder<Identifier> {
    AutumnService::builder()
        .secret_key("am_sk_test_secure")
        .base_url("http://autumn.invalid")
        .transport(autumn.transport())
        .protocol(protocol)
        .configure_client(|c| c.retry(autumn_tower::RetryPolicy::none()))
        .identify(identify as Identifier)
}

async fn call(
    svc: &AutumnService<Identifier>,
    path: &str,
    content_type: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut req = Request::post(path);
    for (name, value) in ADA {
        req = req.header(name, value);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let resp = svc
        .clone()
        .oneshot(req.body(Full::new(Bytes::from(body.to_owned()))).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

/// The one upstream body of the last call.
fn sent(autumn: &MemoryAutumn) -> Value {
    let seen = autumn.take();
    assert_eq!(seen.len(), 1, "one upstream call: {seen:?}");
    seen[0].json().clone()
}

#[tokio::test]
async fn attach_drops_billing_terms_the_browser_sent() {
    let autumn = MemoryAutumn::new(json!({}));
    let svc = builder(&autumn, Protocol::Current).build().unwrap();
    let (status, _) = call(
        &svc,
        "/api/autumn/attach",
        Some("application/json"),
        r#"{"planId":"pro","noBillingChanges":true,"processorSubscriptionId":"sub_victim",
            "customize":{"price":{"amount":0,"interval":"month"}},
            "freeTrial":{"durationLength":365,"durationType":"day"},
            "discounts":[{"rewardId":"r"}],"version":1,"billingCycleAnchor":"now",
            "featureQuantities":[{"featureId":"seats","quantity":3,"adjustable":true}],
            "successUrl":"https://app.example/done"}"#,
    )
    .await;
    // The in-memory Autumn answers `{}`, which is not a billing answer (502): only the request matters.
    assert_ne!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        sent(&autumn),
        json!({
            "customer_id": "cus_ada",
            "plan_id": "pro",
            "feature_quantities": [{"feature_id": "seats", "quantity": 3}],
            "success_url": "https://app.example/done",
            // The API's own default, filled by the conversion as autumn-js does.
            "redirect_mode": "if_required"
        })
    );
}

#[tokio::test]
async fn get_or_create_customer_drops_billing_controls_and_config() {
    let autumn = MemoryAutumn::new(json!({}));
    let svc = builder(&autumn, Protocol::Current).build().unwrap();
    let (status, _) = call(
        &svc,
        "/api/autumn/getOrCreateCustomer",
        Some("application/json"),
        r#"{"config":{"disableOverageBilling":true},
            "billingControls":{"spendLimits":[{"featureId":"m","skipOverageBilling":true}]},
            "autoEnablePlanId":"pro","fingerprint":"fp","sendEmailReceipts":false,
            "expand":["invoices"]}"#,
    )
    .await;
    assert_ne!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        sent(&autumn),
        json!({
            "customer_id": "cus_ada",
            "name": "Ada",
            "email": "ada@example.com",
            "expand": ["invoices", "balances.feature"]
        })
    );
}

#[tokio::test]
async fn legacy_track_refuses_a_negative_value_and_drops_the_rest() {
    let autumn = MemoryAutumn::new(json!({}));
    let svc = builder(&autumn, Protocol::Legacy).build().unwrap();
    let (status, body) = call(
        &svc,
        "/api/autumn/track",
        Some("application/json"),
        r#"{"featureId":"messages","value":-1000000}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "invalid_request");
    assert!(autumn.take().is_empty(), "nothing went upstream");

    let (status, _) = call(
        &svc,
        "/api/autumn/track",
        Some("application/json"),
        r#"{"featureId":"messages","value":2,"overageBehavior":"allow","properties":{"a":1}}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let body = sent(&autumn);
    assert_eq!(body["value"], 2);
    assert_eq!(body["feature_id"], "messages");
    assert!(body.get("overage_behavior").is_none(), "{body}");
    assert!(body.get("properties").is_none(), "{body}");

    let (status, _) = call(
        &svc,
        "/api/autumn/check",
        Some("application/json"),
        r#"{"featureId":"messages","requiredBalance":-5,"sendEvent":true}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(autumn.take().is_empty());
}

#[tokio::test]
async fn legacy_attach_drops_custom_pricing() {
    let autumn = MemoryAutumn::new(json!({}));
    let svc = builder(&autumn, Protocol::Legacy).build().unwrap();
    let (status, _) = call(
        &svc,
        "/api/autumn/attach",
        Some("application/json"),
        r#"{"productId":"pro","isCustom":true,"items":[{"price":0}],"freeTrial":false,
            "reward":"FREE","invoice":true,"metadata":{"a":1},
            "options":[{"featureId":"seats","quantity":2,"price":0}]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let body = sent(&autumn);
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        ["customer_data", "customer_id", "options", "product_id"]
    );
    assert_eq!(
        body["options"],
        json!([{"feature_id": "seats", "quantity": 2}])
    );
}

#[tokio::test]
async fn the_app_widens_and_narrows_a_route_list() {
    let autumn = MemoryAutumn::new(json!({}));
    let svc = builder(&autumn, Protocol::Current)
        .allow_fields("attach", ["discounts[].promotion_code"])
        .deny_fields("attach", ["success_url"])
        .build()
        .unwrap();
    call(
        &svc,
        "/api/autumn/attach",
        Some("application/json"),
        r#"{"planId":"pro","discounts":[{"promotionCode":"SPRING","rewardId":"r"}],
            "successUrl":"https://x"}"#,
    )
    .await;
    assert_eq!(
        sent(&autumn),
        json!({"customer_id": "cus_ada", "plan_id": "pro", "redirect_mode": "if_required",
               "discounts": [{"promotion_code": "SPRING"}]})
    );

    let err = builder(&autumn, Protocol::Current)
        .allow_fields("chekout", ["x"])
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("chekout"), "{err}");
    // Legacy route names are the legacy table's.
    builder(&autumn, Protocol::Legacy)
        .deny_fields("events/list", ["custom_range"])
        .build()
        .unwrap();
}

#[tokio::test]
async fn post_routes_take_only_json() {
    for protocol in [Protocol::Current, Protocol::Legacy] {
        let autumn = MemoryAutumn::new(json!({}));
        let svc = builder(&autumn, protocol).build().unwrap();
        for ct in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonx"),
        ] {
            let (status, body) = call(&svc, "/api/autumn/attach", ct, r#"{"planId":"pro"}"#).await;
            assert_eq!(
                status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{protocol:?} {ct:?}"
            );
            assert_eq!(body["code"], "unsupported_media_type");
            assert_eq!(body["statusCode"], 415);
        }
        assert!(
            autumn.take().is_empty(),
            "{protocol:?}: nothing went upstream"
        );
        let (status, _) = call(
            &svc,
            "/api/autumn/attach",
            Some("Application/JSON; charset=utf-8"),
            r#"{"planId":"pro","productId":"pro"}"#,
        )
        .await;
        assert_ne!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{protocol:?}");
        assert_eq!(autumn.take().len(), 1, "{protocol:?}");
    }
}

#[derive(Clone)]
struct Admin;

#[tokio::test]
async fn the_authorize_hook_refuses_with_403() {
    let autumn = MemoryAutumn::new(json!({}));
    let svc = builder(&autumn, Protocol::Current)
        .authorize(|access: &autumn_tower::authorize::Access<'_>| {
            let admin = access.parts.extensions.get::<Admin>().is_some();
            let ok = admin || access.route != "attach";
            let identified = access.identity.is_some_and(|i| i.customer_id == "cus_ada");
            async move { ok && identified }
        })
        .build()
        .unwrap();
    let (status, body) = call(
        &svc,
        "/api/autumn/attach",
        Some("application/json"),
        r#"{"planId":"pro"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!({"message": "you are not allowed to use this route", "code": "forbidden", "statusCode": 403})
    );
    assert!(autumn.take().is_empty());

    let (status, _) = call(
        &svc,
        "/api/autumn/listPlans",
        Some("application/json"),
        "{}",
    )
    .await;
    assert_ne!(status, StatusCode::FORBIDDEN);
    assert_eq!(autumn.take().len(), 1);

    let mut req = Request::post("/api/autumn/attach");
    for (name, value) in ADA {
        req = req.header(name, value);
    }
    let mut req = req
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"planId":"pro"}"#)))
        .unwrap();
    req.extensions_mut().insert(Admin);
    let resp = svc.clone().oneshot(req).await.unwrap();
    assert_ne!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(autumn.take().len(), 1);
}

/// Every path (dotted, `[]` for array elements) of a JSON value's leaves and containers.
fn paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push(p.clone());
                paths(v, &p, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                paths(v, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// True when `path` is on or under a listed path, or on the way to one.
fn permitted(path: &str, listed: &[&str]) -> bool {
    listed.iter().any(|l| {
        path == *l
            || path.starts_with(&format!("{l}."))
            || path.starts_with(&format!("{l}[]"))
            || l.starts_with(&format!("{path}."))
            || l.starts_with(&format!("{path}[]"))
    })
}

/// Field names from the spec in both spellings, and noise.
fn key() -> impl Strategy<Value = String> {
    const NAMES: &[&str] = &[
        "planId",
        "plan_id",
        "customize",
        "price",
        "amount",
        "freeTrial",
        "free_trial",
        "featureQuantities",
        "feature_quantities",
        "featureId",
        "feature_id",
        "quantity",
        "adjustable",
        "successUrl",
        "success_url",
        "discounts",
        "promotionCode",
        "noBillingChanges",
        "no_billing_changes",
        "processorSubscriptionId",
        "billingControls",
        "spendLimits",
        "skipOverageBilling",
        "config",
        "disableOverageBilling",
        "metadata",
        "entityId",
        "customRange",
        "start",
        "end",
        "plans",
        "expand",
        "customerData",
        "customer_id",
        "version",
        "invoiceMode",
        "cancelAction",
        "licenseQuantities",
        "licensePlanId",
    ];
    prop_oneof![
        4 => proptest::sample::select(NAMES).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{1,10}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (0i64..1000).prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

const BODY_ROUTES: &[&str] = &[
    "getOrCreateCustomer",
    "getEntity",
    "attach",
    "previewAttach",
    "updateSubscription",
    "multiAttach",
    "setupPayment",
    "openCustomerPortal",
    "listPlans",
    "listEvents",
    "aggregateEvents",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whatever the body (any keys, nesting or spelling), nothing outside the route's list (plus the
    /// identity the service adds itself) reaches Autumn.
    #[test]
    fn no_body_gets_an_unlisted_field_upstream(
        route in proptest::sample::select(BODY_ROUTES),
        entries in proptest::collection::vec((key(), json_value()), 0..8),
    ) {
        let body = Value::Object(entries.into_iter().collect());
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let autumn = MemoryAutumn::new(json!({}));
            let svc = builder(&autumn, Protocol::Current).build().unwrap();
            let (status, _) = call(&svc, &format!("/api/autumn/{route}"), Some("application/json"),
                &body.to_string()).await;
            let listed: Vec<&str> = fields::defaults(Protocol::Current)
                .iter()
                .find(|(r, _)| *r == route)
                .map(|(_, p)| p.to_vec())
                .unwrap()
                .into_iter()
                .chain(["customer_id", "name", "email", "expand"])
                .collect();
            for seen in autumn.take() {
                let mut found = Vec::new();
                paths(seen.json(), "", &mut found);
                for p in found {
                    prop_assert!(permitted(&p, &listed), "{route}: {p} reached Autumn (status {status})");
                }
            }
            Ok(())
        })?;
    }
}

/// The README's table of default fields names every field of every route's default list.
#[test]
fn readme_lists_every_default_field() {
    let readme = include_str!("../README.md");
    let section = readme
        .split("## What the browser may set")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the README has a 'What the browser may set' section");
    let rows: Vec<(&str, &str)> = section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ---") && !l.starts_with("| route"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            (cells.len() >= 3).then(|| (cells[0], cells[1]))
        })
        .collect();
    for (protocol, legacy) in [(Protocol::Current, false), (Protocol::Legacy, true)] {
        for (route, paths) in fields::defaults(protocol) {
            for path in *paths {
                let found = rows.iter().any(|(routes, fields)| {
                    routes.starts_with("| legacy") == legacy
                        && routes.contains(&format!("`{route}`"))
                        && fields.contains(&format!("`{path}`"))
                });
                assert!(
                    found,
                    "the README does not list {route} {path} ({protocol:?})"
                );
            }
        }
    }
}
