//! The service's own cost per request, by route family: routing, body reading, identify, JSON rewriting and
//! response building. The transport is in memory and answers a prepared body, so no socket is measured.
//!
//! ```text
//! cargo bench --bench service
//! ```
//!
//! divan reports time and allocations (count and bytes) per request.

use std::convert::Infallible;
use std::future::{ready, Ready};

use autumn_tower::{AutumnService, Identity, Protocol};
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;

#[path = "../tests/support/mod.rs"]
mod support;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

type Identifier = fn(&Parts) -> Ready<Result<Option<Identity>, Infallible>>;

fn identify(parts: &Parts) -> Ready<Result<Option<Identity>, Infallible>> {
    ready(Ok(parts
        .headers
        .get("x-customer-id")
        .and_then(|v| v.to_str().ok())
        .map(Identity::new)))
}

/// Prepared upstream answers, taken once from the spec-driven fake (schema-valid, every field populated).
struct Fixture {
    rt: tokio::runtime::Runtime,
    svc: AutumnService<Identifier>,
    /// Answers every call with the realistic customer.
    realistic: AutumnService<Identifier>,
    /// Answers every call with the load comparison's 4.7 KB customer (`benches/load/fixtures`).
    load: AutumnService<Identifier>,
    /// The legacy protocol; Autumn answers `{"ok":true}` to everything.
    legacy: AutumnService<Identifier>,
    /// Like `svc`, with `attach`'s allow-list widened to everything (the field filter's cost is the difference).
    unfiltered: AutumnService<Identifier>,
}

fn service<T: autumn_tower::transport::HttpTransport>(transport: T) -> AutumnService<Identifier> {
    service_for(transport, Protocol::Current)
}

fn service_for<T: autumn_tower::transport::HttpTransport>(
    transport: T,
    protocol: Protocol,
) -> AutumnService<Identifier> {
    AutumnService::builder()
        .secret_key("am_sk_test_bench")
        .base_url("http://bench.invalid")
        .transport(transport)
        .protocol(protocol)
        .identify(identify as Identifier)
        .build()
        .unwrap()
}

fn fixture() -> &'static Fixture {
    static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let answers: std::collections::HashMap<String, Bytes> = rt.block_on(async {
            let fake = support::FakeAutumn::start().await;
            [
                "/v1/customers.get_or_create",
                "/v1/plans.list",
                "/v1/billing.attach",
            ]
            .into_iter()
            .map(|p| {
                let v = fake.response_for(p).expect("the fake answers this path");
                (p.to_owned(), Bytes::from(serde_json::to_vec(&v).unwrap()))
            })
            .collect()
        });
        let customer = &answers["/v1/customers.get_or_create"];
        eprintln!(
            "getOrCreateCustomer upstream answer (every optional field): {} bytes",
            customer.len()
        );
        let realistic = rt.block_on(realistic_customer());
        eprintln!(
            "getOrCreateCustomer upstream answer (realistic): {} bytes",
            realistic.len()
        );
        let transport = tower::service_fn(move |req: Request<Full<Bytes>>| {
            let body = answers.get(req.uri().path()).cloned().unwrap_or_default();
            ready(Ok::<_, Infallible>(Response::new(Full::new(body))))
        });
        let unfiltered = AutumnService::builder()
            .secret_key("am_sk_test_bench")
            .base_url("http://bench.invalid")
            .transport(transport.clone())
            // The empty path is the whole body: nothing is filtered.
            .allow_fields("attach", [""])
            .identify(identify as Identifier)
            .build()
            .unwrap();
        let svc = service(transport);
        let realistic = service(tower::service_fn(move |_req: Request<Full<Bytes>>| {
            ready(Ok::<_, Infallible>(Response::new(Full::new(
                realistic.clone(),
            ))))
        }));
        let load_customer = Bytes::from_static(include_bytes!("load/fixtures/customer.json"));
        let load = service(tower::service_fn(move |_req: Request<Full<Bytes>>| {
            ready(Ok::<_, Infallible>(Response::new(Full::new(
                load_customer.clone(),
            ))))
        }));
        let legacy = service_for(
            tower::service_fn(|_req: Request<Full<Bytes>>| {
                ready(Ok::<_, Infallible>(Response::new(Full::new(
                    Bytes::from_static(br#"{"ok":true}"#),
                ))))
            }),
            Protocol::Legacy,
        );
        Fixture {
            rt,
            svc,
            realistic,
            load,
            legacy,
            unfiltered,
        }
    })
}

/// A customer as Autumn answers for a paying user: the offline Autumn's answer for a customer on
/// `pro` with a top-up bought, some usage, name, email and metadata.
async fn realistic_customer() -> Bytes {
    use autumn_tower::offline::OfflineAutumn;
    let autumn = OfflineAutumn::new();
    let call = |op: &'static str, body: serde_json::Value| {
        let autumn = autumn.clone();
        async move {
            let req = Request::post(format!("http://offline.invalid/v1/{op}"))
                .header("authorization", format!("Bearer {}", autumn.secret_key()))
                .body(Full::new(Bytes::from(body.to_string())))
                .unwrap();
            let resp = autumn.oneshot(req).await.unwrap();
            assert!(resp.status().is_success(), "{op}");
            resp.into_body().collect().await.unwrap().to_bytes()
        }
    };
    let id = serde_json::json!("cus_realistic");
    let setup = call(
        "billing.setup_payment",
        serde_json::json!({ "customer_id": id }),
    )
    .await;
    let url: serde_json::Value = serde_json::from_slice(&setup).unwrap();
    autumn
        .complete_checkout(url["url"].as_str().unwrap())
        .unwrap();
    for plan in ["pro", "top_up"] {
        call(
            "billing.attach",
            serde_json::json!({ "customer_id": id, "plan_id": plan }),
        )
        .await;
    }
    call(
        "balances.track",
        serde_json::json!({ "customer_id": id, "feature_id": "messages", "value": 42 }),
    )
    .await;
    call(
        "customers.update",
        serde_json::json!({
            "customer_id": id,
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "metadata": { "company": "Analytical Engines Ltd", "signupSource": "newsletter" },
        }),
    )
    .await;
    call(
        "customers.get_or_create",
        serde_json::json!({ "customer_id": id }),
    )
    .await
}

fn run(path: &str, customer: Option<&str>, body: &'static str) -> usize {
    run_on(&fixture().svc, path, customer, body)
}

fn run_on(
    svc: &AutumnService<Identifier>,
    path: &str,
    customer: Option<&str>,
    body: &'static str,
) -> usize {
    let f = fixture();
    // Declared JSON, as autumn-js sends it (without it every POST is a 415).
    let mut req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json");
    if let Some(c) = customer {
        req = req.header("x-customer-id", c);
    }
    let req = req
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    f.rt.block_on(async {
        let resp = svc.clone().oneshot(req).await.unwrap();
        resp.into_body().collect().await.unwrap().to_bytes().len()
    })
}

#[divan::bench]
fn get_or_create_customer() -> usize {
    run("/api/autumn/getOrCreateCustomer", Some("cus_bench"), "{}")
}

#[divan::bench]
fn get_or_create_customer_realistic() -> usize {
    run_on(
        &fixture().realistic,
        "/api/autumn/getOrCreateCustomer",
        Some("cus_realistic"),
        "{}",
    )
}

#[divan::bench]
fn get_or_create_customer_load_fixture() -> usize {
    run_on(
        &fixture().load,
        "/api/autumn/getOrCreateCustomer",
        Some("cus_load"),
        "{}",
    )
}

#[divan::bench]
fn list_plans() -> usize {
    run("/api/autumn/listPlans", Some("cus_bench"), "{}")
}

#[divan::bench]
fn attach() -> usize {
    run(
        "/api/autumn/attach",
        Some("cus_bench"),
        r#"{"planId":"pro","successUrl":"https://app.example/ok"}"#,
    )
}

/// What autumn-js's client sends for a plan with a prepaid feature.
const ATTACH_BODY: &str = r#"{"planId":"pro","successUrl":"https://app.example/ok","featureQuantities":[{"featureId":"seats","quantity":3}],"redirectMode":"always"}"#;

/// `attach` with a realistic body through the default allow-list ...
#[divan::bench]
fn attach_filtered() -> usize {
    run("/api/autumn/attach", Some("cus_bench"), ATTACH_BODY)
}

/// ... and with the list widened to everything: the filter's own cost is the difference.
#[divan::bench]
fn attach_unfiltered() -> usize {
    run_on(
        &fixture().unfiltered,
        "/api/autumn/attach",
        Some("cus_bench"),
        ATTACH_BODY,
    )
}

#[divan::bench]
fn anonymous_reject_401() -> usize {
    run("/api/autumn/attach", None, r#"{"planId":"pro"}"#)
}

#[divan::bench]
fn unknown_route_404() -> usize {
    run("/api/autumn/nope", Some("cus_bench"), "{}")
}

/// A flat object of 95,000 distinct keys, 1 MiB (the default body limit): `{"k00000":0,...}`, with
/// `head` (`"productId":"pro",`, say) first.
fn wide_body(head: &str) -> &'static str {
    let mut out = String::with_capacity(1024 * 1024);
    out.push('{');
    out.push_str(head);
    for i in 0..95_000 {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(r#""k{i:05}":0"#));
    }
    out.push('}');
    assert!(
        out.len() <= autumn_tower::service::DEFAULT_BODY_LIMIT,
        "{}",
        out.len()
    );
    Box::leak(out.into_boxed_str())
}

fn wide() -> &'static str {
    static BODY: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    BODY.get_or_init(|| wide_body(""))
}

fn wide_attach() -> &'static str {
    static BODY: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    BODY.get_or_init(|| wide_body(r#""productId":"pro","#))
}

/// The legacy `attach` of an anonymous caller with a 1 MiB body of 95,000 keys (parsed for
/// `errorOnNotFound`, answered 401).
#[divan::bench(sample_count = 20)]
fn legacy_attach_95k_keys_anonymous() -> usize {
    run_on(&fixture().legacy, "/api/autumn/attach", None, wide())
}

/// The same body from an identified caller: parsed, keys renamed, and sent upstream whole.
#[divan::bench(sample_count = 20)]
fn legacy_attach_95k_keys() -> usize {
    run_on(
        &fixture().legacy,
        "/api/autumn/attach",
        Some("cus_bench"),
        wide_attach(),
    )
}

/// The current protocol's `getOrCreateCustomer` (which reads the body of an anonymous caller) with it.
#[divan::bench(sample_count = 20)]
fn get_or_create_customer_95k_keys_anonymous() -> usize {
    run("/api/autumn/getOrCreateCustomer", None, wide())
}

fn main() {
    fixture();
    eprintln!(
        "browser answers: getOrCreateCustomer {} bytes, realistic {} bytes",
        get_or_create_customer(),
        get_or_create_customer_realistic()
    );
    divan::main();
}
