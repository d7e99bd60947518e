//! The offline Autumn is a dev tool, not a hole: it listens on loopback unless told otherwise, answers
//! only its own key, hands out unguessable checkout ids whose pages need a per-page token to pay,
//! bounds the work of one call (and its arithmetic) and builds page links from ids, never from paths.

use std::time::{Duration, Instant};

use autumn_tower::models::{CheckParams, GetOrCreateCustomerParams};
use autumn_tower::offline::{OfflineAutumn, OfflineServer, PLACEHOLDER_KEY};
use autumn_tower::{AutumnService, Identity};
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tower::ServiceExt;

/// Calls `POST /v1/<op>` in process with `key`; returns the status and the JSON body.
async fn call_as(autumn: &OfflineAutumn, key: &str, op: &str, body: Value) -> (StatusCode, Value) {
    let request = Request::post(format!("https://api.useautumn.com/v1/{op}"))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = autumn.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).expect("the offline Autumn answers JSON");
    (status, body)
}

async fn call(autumn: &OfflineAutumn, op: &str, body: Value) -> (StatusCode, Value) {
    call_as(autumn, autumn.secret_key(), op, body).await
}

/// An error body in Autumn's shape, with this code.
fn assert_error(body: &Value, code: &str) {
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(body["code"], code, "{body}");
}

type HttpClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

fn http_client() -> HttpClient {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>()
}

/// Sends one request to the served offline Autumn; returns the status, the headers and the body text.
async fn send(
    client: &HttpClient,
    server: &OfflineServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, http::HeaderMap, String) {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("{}{path}", server.url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// `serve` refuses an address that is not loopback: exposing the offline Autumn takes `serve_exposed`.
#[tokio::test]
async fn serve_listens_on_loopback_only() {
    let autumn = OfflineAutumn::new();
    let refused = autumn.serve("0.0.0.0:0").await;
    assert!(
        refused.is_err(),
        "serve bound a non-loopback address: {refused:?}"
    );
    assert_eq!(
        refused.unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
    let server = autumn.serve("127.0.0.1:0").await.unwrap();
    assert!(server.local_addr().ip().is_loopback());
    server.shutdown().await;
    let server = autumn.serve("localhost:0").await.unwrap();
    assert!(server.local_addr().ip().is_loopback());
    server.shutdown().await;
}

/// The explicit opt-in still serves (here on loopback: the tests only talk to 127.0.0.1).
#[tokio::test]
async fn serve_exposed_is_the_explicit_opt_in() {
    let autumn = OfflineAutumn::new();
    let server = autumn.serve_exposed("127.0.0.1:0").await.unwrap();
    let (status, _, _) = send(
        &http_client(),
        &server,
        Method::POST,
        "/v1/customers.list",
        &[("authorization", &format!("Bearer {PLACEHOLDER_KEY}"))],
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    server.shutdown().await;
}

/// Over HTTP, a key other than the offline Autumn's own answers 401 in Autumn's error shape and lists
/// no customer; the placeholder key works.
#[tokio::test]
async fn served_api_answers_only_its_own_key() {
    let autumn = OfflineAutumn::new();
    let (status, _) = call(
        &autumn,
        "customers.get_or_create",
        json!({"customer_id": "alice"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let server = autumn.serve("127.0.0.1:0").await.unwrap();
    let client = http_client();
    for key in ["am_sk_anything", "am_sk_offlin", "am_sk_offlinee", ""] {
        let (status, _, body) = send(
            &client,
            &server,
            Method::POST,
            "/v1/customers.list",
            &[("authorization", &format!("Bearer {key}"))],
            "{}",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "key {key:?}: {body}");
        assert!(!body.contains("alice"), "{body}");
        assert_error(&serde_json::from_str(&body).unwrap(), "unauthorized");
    }
    let (status, _, body) = send(
        &client,
        &server,
        Method::POST,
        "/v1/customers.list",
        &[("authorization", "Bearer am_sk_offline")],
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("alice"), "{body}");
    server.shutdown().await;
}

/// In process (the offline Autumn as a transport) the key is checked too.
#[tokio::test]
async fn in_process_transport_answers_only_its_own_key() {
    let autumn = OfflineAutumn::new();
    let (status, body) = call_as(&autumn, "am_sk_someone_else", "customers.list", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_error(&body, "unauthorized");
    let (status, _) = call_as(&autumn, PLACEHOLDER_KEY, "customers.list", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    // An empty key (`Bearer ` and nothing) is no key, even for an offline Autumn built with one.
    let empty = OfflineAutumn::new().with_secret_key("");
    let (status, body) = call_as(&empty, "", "customers.list", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

/// A key given when built replaces the placeholder; the typed client and the service builder use it.
#[tokio::test]
async fn a_chosen_key_is_the_only_key() {
    let autumn = OfflineAutumn::new().with_secret_key("am_sk_test_mine");
    assert_eq!(autumn.secret_key(), "am_sk_test_mine");
    let (status, _) = call_as(&autumn, PLACEHOLDER_KEY, "customers.list", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call_as(&autumn, "am_sk_test_mine", "customers.list", json!({})).await;
    assert_eq!(status, StatusCode::OK);

    let client = autumn.client();
    client
        .customers()
        .get_or_create(&GetOrCreateCustomerParams::new("bob"))
        .await
        .unwrap();
    assert!(
        client
            .balances()
            .check(&CheckParams::new("bob", "messages"))
            .await
            .unwrap()
            .allowed
    );

    let identify = |_: &http::request::Parts| {
        std::future::ready(Ok::<_, std::convert::Infallible>(Some(Identity::new(
            "bob",
        ))))
    };
    let service = AutumnService::builder()
        .identify(identify)
        .offline(autumn.clone())
        .build()
        .unwrap();
    let response = service
        .oneshot(
            Request::post("/api/autumn/getOrCreateCustomer")
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(b"{}")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// Checkout and setup ids are random (a v4 UUID's 122 bits), not a counter.
#[tokio::test]
async fn checkout_ids_are_unguessable() {
    let autumn = OfflineAutumn::new();
    let mut ids = Vec::new();
    for customer in ["c1", "c2"] {
        let (status, attach) = call(
            &autumn,
            "billing.attach",
            json!({"customer_id": customer, "plan_id": "pro"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{attach}");
        let url = attach["payment_url"].as_str().unwrap();
        ids.push(url.rsplit('/').next().unwrap().to_owned());
        let (_, setup) = call(
            &autumn,
            "billing.setup_payment",
            json!({"customer_id": customer}),
        )
        .await;
        ids.push(
            setup["url"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    for id in &ids {
        let random = id.rsplit('_').next().unwrap();
        assert!(
            random.len() >= 32 && random.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id} is not a random id"
        );
    }
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len());
}

/// The `token` hidden field of a checkout page.
fn token_of(html: &str) -> String {
    let at = html
        .find("name=\"token\"")
        .unwrap_or_else(|| panic!("no token field in {html}"));
    let value = &html[at..];
    let start = value.find("value=\"").unwrap() + "value=\"".len();
    let end = value[start..].find('"').unwrap();
    value[start..start + end].to_owned()
}

/// A bare POST (or a wrong token) to a checkout page answers 403 and completes nothing; the token
/// rendered into the page's form completes it.
#[tokio::test]
async fn paying_on_a_checkout_page_takes_its_token() {
    let autumn = OfflineAutumn::new();
    let server = autumn.serve("127.0.0.1:0").await.unwrap();
    let client = http_client();
    let (_, attach) = call(
        &autumn,
        "billing.attach",
        json!({"customer_id": "gina", "plan_id": "pro", "success_url": "http://localhost:5173/ok"}),
    )
    .await;
    let url = attach["payment_url"].as_str().unwrap().to_owned();
    let path = url.strip_prefix(&server.url()).unwrap().to_owned();
    let form = [("content-type", "application/x-www-form-urlencoded")];

    let (status, _, _) = send(&client, &server, Method::POST, &path, &[], "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = send(&client, &server, Method::POST, &path, &form, "token=0123").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, customer) = call(&autumn, "customers.get", json!({"customer_id": "gina"})).await;
    assert!(
        customer["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["plan_id"] != "pro"),
        "a POST without the token completed the checkout: {customer}"
    );
    assert_eq!(autumn.open_checkouts(), std::slice::from_ref(&url));

    let (status, _, html) = send(&client, &server, Method::GET, &path, &[], "").await;
    assert_eq!(status, StatusCode::OK);
    let token = token_of(&html);
    assert!(token.len() >= 32, "{token}");
    let (status, headers, _) = send(
        &client,
        &server,
        Method::POST,
        &path,
        &form,
        &format!("token={token}"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "http://localhost:5173/ok");
    let (_, customer) = call(&autumn, "customers.get", json!({"customer_id": "gina"})).await;
    assert_eq!(customer["subscriptions"][0]["plan_id"], "pro", "{customer}");
    server.shutdown().await;
}

/// The form's action is built from the checkout id: `GET ///checkout/<id>` does not render a
/// scheme-relative `//...` action.
#[tokio::test]
async fn checkout_form_action_is_built_from_the_id() {
    let autumn = OfflineAutumn::new();
    let server = autumn.serve("127.0.0.1:0").await.unwrap();
    let client = http_client();
    let (_, attach) = call(
        &autumn,
        "billing.attach",
        json!({"customer_id": "h", "plan_id": "pro"}),
    )
    .await;
    let url = attach["payment_url"].as_str().unwrap();
    let id = url.rsplit('/').next().unwrap();
    let (_, setup) = call(
        &autumn,
        "billing.setup_payment",
        json!({"customer_id": "h"}),
    )
    .await;
    let setup_id = setup["url"].as_str().unwrap().rsplit('/').next().unwrap();
    for (path, action) in [
        (format!("///checkout/{id}"), format!("/checkout/{id}")),
        (format!("//checkout/{id}/"), format!("/checkout/{id}")),
        (format!("///setup/{setup_id}"), format!("/setup/{setup_id}")),
    ] {
        let (status, _, html) = send(&client, &server, Method::GET, &path, &[], "").await;
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        assert!(
            html.contains(&format!("action=\"{action}\"")),
            "{path}: the form action is not {action}: {html}"
        );
    }
    server.shutdown().await;
}

/// `events.aggregate` past the bins × features limit answers 400 at once, instead of working (under
/// the engine's lock) through 100 features × 20,000 days.
#[tokio::test]
async fn aggregating_too_many_bins_answers_400_quickly() {
    let autumn = OfflineAutumn::new();
    let features: Vec<String> = (0..100).map(|i| format!("f{i}")).collect();
    let started = Instant::now();
    let (status, body) = call(
        &autumn,
        "events.aggregate",
        json!({"feature_id": features, "custom_range": {"start": 0, "end": 1e15}}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:.200}");
    assert_error(&body, "invalid_request");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // Within the limits it still answers.
    let (status, body) = call(
        &autumn,
        "events.aggregate",
        json!({"feature_id": ["messages"], "range": "90d", "bin_size": "hour"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body:.200}");
    assert!(body["list"].as_array().unwrap().len() >= 90 * 24);
}

/// A body of about 1 MiB of feature ids is refused without building a huge answer.
#[tokio::test]
async fn a_mebibyte_of_feature_ids_is_refused() {
    let autumn = OfflineAutumn::new();
    let features: Vec<String> = (0..120_000).map(|i| format!("f{i}")).collect();
    let body = json!({ "feature_id": features });
    assert!(body.to_string().len() > 1_000_000);
    for op in ["events.aggregate", "events.list"] {
        let started = Instant::now();
        let (status, answer) = call(&autumn, op, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{op}: {answer:.200}");
        assert_error(&answer, "invalid_request");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{op}: {:?}",
            started.elapsed()
        );
    }
}

/// Ranges that make no sense (ends before it starts, beyond any date) answer 400, never overflow.
#[tokio::test]
async fn nonsense_ranges_answer_400() {
    let autumn = OfflineAutumn::new();
    for range in [
        json!({"start": 1e30, "end": 0}),
        json!({"start": 5000, "end": 10}),
        json!({"start": -1e30, "end": 1e30}),
        json!({"start": 0, "end": 9.3e18}),
        json!({"start": 9.2e18}),
    ] {
        for op in ["events.aggregate", "events.list"] {
            let (status, body) = call(
                &autumn,
                op,
                json!({"feature_id": "messages", "custom_range": range}),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{op} {range}: {body:.200}");
            assert_error(&body, "invalid_request");
        }
    }
    let (status, _) = call(
        &autumn,
        "events.aggregate",
        json!({"feature_id": "messages", "custom_range": {"start": 0, "end": 86_400_000}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// Amounts beyond any real usage answer 400 instead of turning balances into infinities (which
/// JSON cannot carry).
#[tokio::test]
async fn huge_amounts_answer_400_and_balances_stay_numbers() {
    let autumn = OfflineAutumn::new();
    let (status, _) = call(
        &autumn,
        "customers.get_or_create",
        json!({"customer_id": "ivan"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..2 {
        let (status, body) = call(
            &autumn,
            "balances.track",
            json!({"customer_id": "ivan", "feature_id": "messages", "value": 1e308, "overage_behavior": "overflow"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_error(&body, "invalid_request");
    }
    let (status, body) = call(
        &autumn,
        "balances.check",
        json!({"customer_id": "ivan", "feature_id": "messages", "required_balance": -1e308}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, customer) = call(&autumn, "customers.get", json!({"customer_id": "ivan"})).await;
    let balance = &customer["balances"]["messages"];
    assert_eq!(balance["usage"].as_f64(), Some(0.0), "{customer}");
    assert_eq!(balance["remaining"].as_f64(), Some(100.0), "{customer}");
    // Within the limit, amounts still count.
    let (status, body) = call(
        &autumn,
        "balances.track",
        json!({"customer_id": "ivan", "feature_id": "messages", "value": 1e15, "overage_behavior": "overflow"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A clock moved to the end of time saturates instead of overflowing its period arithmetic.
#[tokio::test]
async fn a_clock_at_the_end_of_time_does_not_panic() {
    let autumn = OfflineAutumn::new();
    let (status, _) = call(
        &autumn,
        "customers.get_or_create",
        json!({"customer_id": "j"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let before = autumn.now();
    autumn.advance(Duration::MAX);
    assert!(autumn.now() > before, "the clock moved backwards");
    autumn.advance(Duration::from_millis(i64::MAX as u64));
    for op in ["customers.get", "events.aggregate"] {
        let (status, body) = call(
            &autumn,
            op,
            json!({"customer_id": "j", "feature_id": "messages", "range": "3bc"}),
        )
        .await;
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{op}: {status} {body}"
        );
    }
    autumn.set_time(std::time::UNIX_EPOCH + Duration::from_secs(u64::MAX / 2));
    let (status, body) = call(&autumn, "customers.get", json!({"customer_id": "j"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Bodies are read by type: a field of the wrong type answers 400 naming it, a field an update
/// leaves out is kept (a `null` one is cleared), and a field the call does not need is not read.
#[tokio::test]
async fn bodies_are_read_by_type() {
    let autumn = OfflineAutumn::new();
    let (status, _) = call(
        &autumn,
        "customers.get_or_create",
        json!({ "customer_id": "rae", "name": "Rae", "email": "rae@example.com" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<String> = (0..101).map(|i| format!("f{i}")).collect();
    for (op, body, message) in [
        (
            "customers.get_or_create",
            json!({ "customer_id": "sam", "name": 5 }),
            "`name` must be a string",
        ),
        (
            "customers.list",
            json!({ "limit": "ten" }),
            "`limit` must be a number",
        ),
        (
            "customers.update",
            json!({ "customer_id": "rae", "metadata": [] }),
            "`metadata` must be an object",
        ),
        (
            "entities.create",
            json!({ "customer_id": "rae", "entity_id": "seat_1" }),
            "`feature_id` is required",
        ),
        (
            "balances.check",
            json!({ "customer_id": "rae", "feature_id": "messages", "required_balance": 1e16 }),
            "`required_balance` must be between -1e15 and 1e15",
        ),
        (
            "balances.check",
            json!({ "customer_id": "rae", "feature_id": "messages", "lock": { "enabled": true, "lock_id": 5 } }),
            "`lock.lock_id` is required",
        ),
        (
            "balances.track",
            json!({ "customer_id": "rae", "feature_id": "messages", "overage_behavior": "spill" }),
            "`overage_behavior` \"spill\" is not one of cap, overflow",
        ),
        (
            "balances.finalize",
            json!({ "lock_id": "l", "action": "confirm", "properties": "x" }),
            "`properties` must be an object",
        ),
        (
            "events.list",
            json!({ "feature_id": ids }),
            "`feature_id` has 101 entries: at most 100",
        ),
        (
            "events.list",
            json!({ "feature_id": [5] }),
            "`feature_id` must be a string or an array of strings",
        ),
        (
            "events.aggregate",
            json!({ "feature_id": "messages", "custom_range": { "start": -1 } }),
            "`custom_range.start` must be a time in milliseconds between 0 and 253402300799999",
        ),
    ] {
        let (status, answer) = call(&autumn, op, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{op} {body}: {answer}");
        assert_eq!(answer["code"], "invalid_request", "{op} {body}");
        assert_eq!(answer["message"], message, "{op} {body}");
    }

    // An update keeps what it leaves out and clears what it sends as null.
    let (_, rae) = call(
        &autumn,
        "customers.update",
        json!({ "customer_id": "rae", "name": null }),
    )
    .await;
    assert_eq!(rae["name"], Value::Null);
    assert_eq!(rae["email"], "rae@example.com");

    // Fields the call does not use are not read: a disabled lock, `send_event` on a denied check.
    let (status, answer) = call(
        &autumn,
        "balances.check",
        json!({ "customer_id": "rae", "feature_id": "messages",
                "lock": { "enabled": false, "lock_id": 5, "expires_at": "soon" } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = call(
        &autumn,
        "balances.check",
        json!({ "customer_id": "rae", "feature_id": "messages", "required_balance": 1000,
                "send_event": "yes" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["allowed"], false);
}
