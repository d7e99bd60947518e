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

use autumn::{AutumnService, Identity};
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
            "getOrCreateCustomer upstream answer: {} bytes",
            customer.len()
        );
        let transport = tower::service_fn(move |req: Request<Full<Bytes>>| {
            let body = answers.get(req.uri().path()).cloned().unwrap_or_default();
            ready(Ok::<_, Infallible>(Response::new(Full::new(body))))
        });
        let svc = AutumnService::builder()
            .secret_key("am_sk_test_bench")
            .base_url("http://bench.invalid")
            .transport(transport)
            .identify(identify as Identifier)
            .build()
            .unwrap();
        Fixture { rt, svc }
    })
}

fn run(path: &str, customer: Option<&str>, body: &'static str) -> usize {
    let f = fixture();
    let mut req = Request::builder().method("POST").uri(path);
    if let Some(c) = customer {
        req = req.header("x-customer-id", c);
    }
    let req = req
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    f.rt.block_on(async {
        let resp = f.svc.clone().oneshot(req).await.unwrap();
        resp.into_body().collect().await.unwrap().to_bytes().len()
    })
}

#[divan::bench]
fn get_or_create_customer() -> usize {
    run("/api/autumn/getOrCreateCustomer", Some("cus_bench"), "{}")
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

#[divan::bench]
fn anonymous_reject_401() -> usize {
    run("/api/autumn/attach", None, r#"{"planId":"pro"}"#)
}

#[divan::bench]
fn unknown_route_404() -> usize {
    run("/api/autumn/nope", Some("cus_bench"), "{}")
}

fn main() {
    fixture();
    divan::main();
}
