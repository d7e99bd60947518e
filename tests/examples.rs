//! Runs every server example (built by `cargo test`) on a free port against a fake upstream on 127.0.0.1,
//! and checks that the Autumn routes and the app's own routes both answer through each framework.

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

#[path = "support/identify.rs"]
mod identify;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};

/// A tiny upstream: records `(path, body)` and answers `{"list": []}`.
async fn fake_upstream() -> (SocketAddr, Arc<Mutex<Vec<(String, Value)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let log = log.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let log = log.clone();
                    async move {
                        let path = req.uri().path().to_owned();
                        let body = req.into_body().collect().await?.to_bytes();
                        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        log.lock().unwrap().push((path, v));
                        Ok::<_, hyper::Error>(
                            Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from_static(br#"{"list":[]}"#)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, seen)
}

struct Running {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn example_path(name: &str) -> PathBuf {
    // target/<profile>/deps/<test binary> -> target/<profile>/examples/<name>
    let mut p = std::env::current_exe().unwrap();
    p.pop();
    p.pop();
    p.push("examples");
    p.push(name);
    assert!(
        p.exists(),
        "{} is missing: run `cargo test` (which builds the examples)",
        p.display()
    );
    p
}

fn start(name: &str, upstream: SocketAddr) -> Running {
    let mut child = Command::new(example_path(name))
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("AUTUMN_SECRET_KEY", "am_sk_test_examples")
        .env("AUTUMN_API_URL", format!("http://{upstream}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{name} printed {line:?} instead of its address"));
    Running { child, addr }
}

async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, http::HeaderMap, Bytes) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    if method == "POST"
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        req = req.header("content-type", "application/json");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
        .await
        .expect("the example answers")
        .unwrap();
    let (parts, body) = resp.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

/// The Autumn route works through the example, for the identified customer only.
async fn check_autumn_route(server: &Running, seen: &Arc<Mutex<Vec<(String, Value)>>>) {
    let (status, headers, body) = request(
        server.addr,
        "POST",
        "/api/autumn/listPlans",
        &[
            ("x-customer-id", "cus_example"),
            ("content-type", "application/json"),
        ],
        r#"{"customerId":"spoofed"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "application/json");
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v, json!({"list": []}));
    let log = seen.lock().unwrap().clone();
    let (path, sent) = log.last().expect("one upstream call");
    assert_eq!(path, "/v1/plans.list");
    assert_eq!(sent["customer_id"], "cus_example");

    let (status, _, body) = request(server.addr, "POST", "/api/autumn/attach", &[], "{}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "no_customer_id");
}

#[tokio::test]
async fn quickstart_serves_autumn_and_cors() {
    let (up, seen) = fake_upstream().await;
    let server = start("quickstart", up);
    check_autumn_route(&server, &seen).await;
    // CORS preflight from the frontend's origin, with credentials.
    let (status, headers, _) = request(
        server.addr,
        "OPTIONS",
        "/api/autumn/attach",
        &[
            ("origin", "http://localhost:5173"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "content-type,x-customer-id",
            ),
        ],
        "",
    )
    .await;
    assert!(status.is_success(), "{status}");
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(
        methods.contains("POST") && methods.contains("GET"),
        "{methods}"
    );
}

#[tokio::test]
async fn hyper_example_serves_autumn_for_the_identified_customer_only() {
    let (up, seen) = fake_upstream().await;
    let server = start("hyper", up);
    check_autumn_route(&server, &seen).await;
}

#[tokio::test]
async fn authorize_example_lets_only_admins_change_the_plan() {
    let (up, seen) = fake_upstream().await;
    let server = start("authorize", up);
    let (status, _, body) = request(
        server.addr,
        "POST",
        "/api/autumn/attach",
        &[("x-org", "acme")],
        r#"{"planId":"pro"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body:?}");
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], "forbidden");
    assert!(
        seen.lock().unwrap().is_empty(),
        "a refused call reaches nobody"
    );
    // A member may still read; an admin may change the plan.
    request(
        server.addr,
        "POST",
        "/api/autumn/listPlans",
        &[("x-org", "acme")],
        "{}",
    )
    .await;
    request(
        server.addr,
        "POST",
        "/api/autumn/attach",
        &[("x-org", "acme"), ("x-role", "admin")],
        r#"{"planId":"pro"}"#,
    )
    .await;
    let paths: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    assert_eq!(paths, ["/v1/plans.list", "/v1/billing.attach"]);
}

#[tokio::test]
async fn layer_example_keeps_the_app_routes() {
    let (up, seen) = fake_upstream().await;
    let server = start("layer", up);
    check_autumn_route(&server, &seen).await;
    let (status, _, body) = request(server.addr, "GET", "/health", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"ok");
}

#[tokio::test]
async fn warp_example_keeps_the_filters() {
    let (up, seen) = fake_upstream().await;
    let server = start("warp", up);
    check_autumn_route(&server, &seen).await;
    let (status, _, body) = request(server.addr, "GET", "/hello/bob", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"hello, bob");
}

#[tokio::test]
async fn tonic_web_example_serves_grpc_web_and_autumn() {
    let (up, seen) = fake_upstream().await;
    let server = start("tonic_web", up);
    check_autumn_route(&server, &seen).await;
    // A gRPC-web health check: an empty HealthCheckRequest in one uncompressed frame.
    let (status, headers, body) = request(
        server.addr,
        "POST",
        "/grpc.health.v1.Health/Check",
        &[
            ("content-type", "application/grpc-web+proto"),
            ("x-grpc-web", "1"),
        ],
        "\0\0\0\0\0",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/grpc-web"));
    // The trailer frame says grpc-status 0 (SERVING is the message; status OK is the point here).
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("grpc-status:0"), "{text}");
}

/// Starts the quickstart with no key (on the embedded offline Autumn); returns it and the six lines
/// it prints first (address, offline notice, three `curl` lines, the demo page).
fn start_offline_quickstart() -> (Running, Vec<String>) {
    let mut child = Command::new(example_path("quickstart"))
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env_remove("AUTUMN_SECRET_KEY")
        .env_remove("AUTUMN_API_URL")
        .env_remove("AUTUMN_PROTOCOL")
        .env_remove("AUTUMN_OFFLINE_CATALOG")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = Vec::new();
    for _ in 0..6 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        banner.push(line.trim_end().to_owned());
    }
    let running = Running {
        addr: banner[0]
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("the quickstart printed {banner:?}")),
        child,
    };
    (running, banner)
}

/// With no key the quickstart runs on the embedded offline Autumn, says so, and prints three `curl`
/// lines that work exactly as printed (run through `sh`, with the real `curl`).
#[tokio::test]
async fn quickstart_without_a_key_runs_on_the_offline_autumn() {
    let (running, banner) = start_offline_quickstart();
    assert!(
        banner[1].contains("offline Autumn"),
        "the start-up says it runs offline: {banner:?}"
    );
    let curls: Vec<&str> = banner[2..5].iter().map(|l| l.trim()).collect();
    assert!(curls.iter().all(|c| c.starts_with("curl ")), "{banner:?}");
    assert!(
        banner[5].contains(&format!("http://{}/", running.addr)),
        "the start-up names the demo page: {banner:?}"
    );

    let run = |line: &str| {
        let output = Command::new("sh").arg("-c").arg(line).output().unwrap();
        assert!(
            output.status.success(),
            "`{line}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice::<Value>(&output.stdout)
            .unwrap_or_else(|e| panic!("`{line}` printed no JSON ({e}): {:?}", output.stdout))
    };
    let customer = run(curls[0]);
    assert_eq!(customer["id"], "user_1");
    assert_eq!(customer["subscriptions"][0]["planId"], "free");
    assert_eq!(customer["balances"]["messages"]["granted"], json!(100));
    let attach = run(curls[1]);
    let payment_url = attach["paymentUrl"].as_str().expect("a checkout URL");
    let sent = run(curls[2]);
    assert_eq!(sent["sent"], true, "{sent}");
    assert_eq!(sent["remaining"], json!(99.0), "{sent}");

    // The checkout page is served; paying on it switches the customer to pro.
    let pages: SocketAddr = payment_url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{payment_url}"));
    let path = &payment_url[payment_url.find("/checkout/").unwrap()..];
    let (status, _, page) = request(pages, "GET", path, &[], "").await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8_lossy(&page).into_owned();
    assert!(page.contains("Pro"));
    // The page's form carries its token: a bare POST completes nothing (tests/offline_security.rs).
    let token = page
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no token on the page: {page}"));
    let (status, _, _) = request(
        pages,
        "POST",
        path,
        &[("content-type", "application/x-www-form-urlencoded")],
        &format!("token={token}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = request(
        running.addr,
        "POST",
        "/api/autumn/getOrCreateCustomer",
        &[
            ("x-customer-id", "user_1"),
            ("content-type", "application/json"),
        ],
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let customer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(customer["subscriptions"][0]["planId"], "pro");
    assert_eq!(customer["balances"]["messages"]["granted"], json!(2000));
}

/// Pays on the offline Autumn's checkout page at `payment_url` as a browser does (GET the page, POST
/// its form with the page's token); returns the paid page's answer.
async fn pay_on_checkout_page(payment_url: &str) -> (StatusCode, http::HeaderMap) {
    let pages: SocketAddr = payment_url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{payment_url}"));
    let path = &payment_url[payment_url.find("/checkout/").unwrap()..];
    let (status, _, page) = request(pages, "GET", path, &[], "").await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8_lossy(&page).into_owned();
    let token = page
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no token on the page: {page}"));
    let (status, headers, _) = request(
        pages,
        "POST",
        path,
        &[("content-type", "application/x-www-form-urlencoded")],
        &format!("token={token}"),
    )
    .await;
    (status, headers)
}

/// The quickstart's metered route on the offline Autumn: a new visitor sends 100 messages (the
/// `free` plan), the 101st answers 402 naming `messages` and is not counted; after paying for `pro` on
/// the checkout page (which sends the browser back to the quickstart's page) the visitor sends again.
/// Anonymous callers get 401 and the demo page is served at `/`.
#[tokio::test]
async fn quickstart_meters_messages_until_the_paywall_and_after_upgrade() {
    let (server, _) = start_offline_quickstart();
    let addr = server.addr;
    let visitor = [("x-customer-id", "visitor_metered")];
    let customer = || async {
        let (status, _, body) = request(
            addr,
            "POST",
            "/api/autumn/getOrCreateCustomer",
            &visitor,
            "{}",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        serde_json::from_slice::<Value>(&body).unwrap()
    };
    let send = || async {
        let (status, _, body) = request(
            addr,
            "POST",
            "/api/messages",
            &visitor,
            r#"{"text":"hello"}"#,
        )
        .await;
        (status, serde_json::from_slice::<Value>(&body).unwrap())
    };

    let (status, _, page) = request(addr, "GET", "/", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8_lossy(&page);
    assert!(
        page.contains("Send message") && page.contains("/api/messages"),
        "{page}"
    );

    let (status, _, body) = request(addr, "POST", "/api/messages", &[], "{}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["code"],
        "no_customer_id"
    );

    let fresh = customer().await;
    assert_eq!(fresh["subscriptions"][0]["planId"], "free");
    assert_eq!(
        fresh["balances"]["messages"]["remaining"].as_f64(),
        Some(100.0)
    );
    for i in 1..=100 {
        let (status, sent) = send().await;
        assert_eq!(status, StatusCode::OK, "message {i}: {sent}");
        assert_eq!(sent["remaining"], json!(100.0 - f64::from(i)), "{sent}");
    }
    let (status, refused) = send().await;
    assert_eq!(
        status,
        StatusCode::PAYMENT_REQUIRED,
        "message 101: {refused}"
    );
    assert_eq!(refused["featureId"], "messages", "{refused}");
    assert_eq!(refused["code"], "insufficient_balance", "{refused}");
    assert_eq!(refused["balance"], json!(0.0), "{refused}");
    let spent = customer().await;
    assert_eq!(spent["balances"]["messages"]["usage"].as_f64(), Some(100.0));
    assert_eq!(
        spent["balances"]["messages"]["remaining"].as_f64(),
        Some(0.0)
    );

    // Upgrade as the page does: attach pro with the page as success URL, pay on the checkout page.
    let page_url = format!("http://{addr}/");
    let (status, _, body) = request(
        addr,
        "POST",
        "/api/autumn/attach",
        &visitor,
        &json!({"planId": "pro", "successUrl": page_url}).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let attach: Value = serde_json::from_slice(&body).unwrap();
    let payment_url = attach["paymentUrl"].as_str().expect("a checkout URL");
    // Not paid yet: still the paywall.
    assert_eq!(send().await.0, StatusCode::PAYMENT_REQUIRED);
    let (status, headers) = pay_on_checkout_page(payment_url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], page_url.as_str(), "back to the page");

    let pro = customer().await;
    assert_eq!(pro["subscriptions"][0]["planId"], "pro", "{pro}");
    let remaining = pro["balances"]["messages"]["remaining"].as_f64().unwrap();
    assert!(remaining > 100.0, "{pro}");
    let (status, sent) = send().await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["remaining"], json!(remaining - 1.0), "{sent}");
    let after = customer().await;
    assert_eq!(
        after["balances"]["messages"]["remaining"].as_f64(),
        Some(remaining - 1.0)
    );
}

/// Starts example `name` with no Autumn key (it runs on the offline Autumn); returns it once it printed
/// its address.
fn start_without_key(name: &str) -> Running {
    let mut child = Command::new(example_path(name))
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env_remove("AUTUMN_SECRET_KEY")
        .env_remove("AUTUMN_API_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{name} printed {line:?} instead of its address"));
    Running { child, addr }
}

/// A health `Check` as `customer` (the `x-customer-id` metadata), or anonymous.
fn health_check(customer: Option<&str>) -> tonic::Request<tonic_health::pb::HealthCheckRequest> {
    let mut request = tonic::Request::new(tonic_health::pb::HealthCheckRequest::default());
    if let Some(id) = customer {
        request
            .metadata_mut()
            .insert("x-customer-id", id.parse().unwrap());
    }
    request
}

/// `examples/metered_tonic.rs` on the offline Autumn: `Check` costs one `messages` (100 on the free
/// plan, then `RESOURCE_EXHAUSTED` naming `messages`, anonymous callers `UNAUTHENTICATED`); `Watch`
/// is not metered and still answers once the balance is used up.
#[tokio::test]
async fn metered_tonic_example_meters_one_method() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let server = start_without_key("metered_tonic");
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = HealthClient::new(channel);

    let anonymous = client.check(health_check(None)).await.unwrap_err();
    assert_eq!(
        anonymous.code(),
        tonic::Code::Unauthenticated,
        "{anonymous:?}"
    );
    assert_eq!(
        anonymous.metadata().get("autumn-code").unwrap(),
        "no_customer_id"
    );

    for i in 1..=100 {
        let answer = client
            .check(health_check(Some("grpc_ann")))
            .await
            .unwrap_or_else(|e| panic!("call {i}: {e:?}"));
        assert_eq!(answer.into_inner().status(), ServingStatus::Serving);
    }
    let refused = client
        .check(health_check(Some("grpc_ann")))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    assert!(
        refused.message().contains("insufficient_balance"),
        "{refused:?}"
    );
    assert_eq!(
        refused.metadata().get("autumn-feature-id").unwrap(),
        "messages"
    );
    // Another customer still has their own 100.
    client.check(health_check(Some("grpc_bob"))).await.unwrap();

    // The unmetered method answers with the balance used up.
    let mut watch = client
        .watch(health_check(Some("grpc_ann")))
        .await
        .unwrap()
        .into_inner();
    let first = watch.message().await.unwrap().expect("one status");
    assert_eq!(first.status(), ServingStatus::Serving);
}

/// What a tonic client sees when `MeterLayer` wraps a gRPC service as is (no translation as in
/// `examples/metered_tonic.rs`): the layer's HTTP 402 JSON answer is not a gRPC answer, and the client
/// reports `INTERNAL` (a frame it cannot decode) with the HTTP status in the message, not the feature.
#[tokio::test]
async fn meter_layer_on_plain_tonic_is_an_internal_error_for_the_client() {
    use autumn_tower::metering::MeterLayer;
    use autumn_tower::models::TrackParams;
    use autumn_tower::offline::OfflineAutumn;
    use tonic_health::pb::health_client::HealthClient;

    let autumn = OfflineAutumn::new();
    autumn
        .client()
        .balances()
        .track(&TrackParams::new("spent", "messages", 100.0))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_reporter, health) = tonic_health::server::health_reporter();
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(MeterLayer::new(
                autumn.client(),
                identify::by_headers as identify::ByHeaders,
                "messages",
            ))
            .add_service(health)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let refused = HealthClient::new(channel)
        .check(health_check(Some("spent")))
        .await
        .unwrap_err();
    println!("{refused:?}");
    assert_eq!(refused.code(), tonic::Code::Internal, "{refused:?}");
    assert!(refused.message().contains("402"), "{refused:?}");
}
