//! The metering layer (`autumn_tower::metering`) on the offline Autumn: check before, track after,
//! reservations, the failure policies and the boolean cache.

use std::convert::Infallible;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use autumn_tower::metering::{CheckSource, MeterLayer, Metered, Usage};
use autumn_tower::models::{CheckParams, GetOrCreateCustomerParams, TrackParams};
use autumn_tower::offline::{Catalog, Feature, OfflineAutumn, Plan, PlanItem};
use autumn_tower::{Client, Identity, RetryPolicy};
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tower::{service_fn, Layer, Service, ServiceExt};

type Identify = fn(&Parts) -> std::future::Ready<Result<Option<Identity>, Infallible>>;

/// The caller is the `x-user-id` header; no header is anonymous.
fn by_header(parts: &Parts) -> std::future::Ready<Result<Option<Identity>, Infallible>> {
    let user = parts
        .headers
        .get("x-user-id")
        .and_then(|v| v.to_str().ok())
        .map(Identity::new);
    std::future::ready(Ok(user))
}

fn request(user: Option<&str>) -> Request<Full<Bytes>> {
    let mut r = Request::post("/work");
    if let Some(u) = user {
        r = r.header("x-user-id", u);
    }
    r.body(Full::new(Bytes::new())).unwrap()
}

async fn body_json<B>(response: Response<B>) -> Value
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

/// `remaining` of a customer's metered feature.
async fn remaining(
    client: &Client<impl autumn_tower::transport::HttpTransport>,
    user: &str,
    feature: &str,
) -> f64 {
    let check = client
        .balances()
        .check(&CheckParams::new(user, feature))
        .await
        .unwrap();
    check.balance.map(|b| b.remaining).unwrap_or(f64::NAN)
}

/// A handler that counts its runs and answers `status`, reporting `usage` when set.
fn handler(
    runs: Arc<AtomicUsize>,
    status: StatusCode,
    usage: Option<f64>,
) -> impl Service<
    Request<Full<Bytes>>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    service_fn(move |req: Request<Full<Bytes>>| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            let metered = req.extensions().get::<Metered>().cloned();
            let body = match metered {
                Some(m) => format!("{}:{:?}", m.customer_id, m.source),
                None => "no extension".to_owned(),
            };
            let mut response = Response::new(Full::new(Bytes::from(body)));
            *response.status_mut() = status;
            if let Some(u) = usage {
                response.extensions_mut().insert(Usage(u));
            }
            Ok::<_, Infallible>(response)
        }
    })
}

/// Number of `balances.track` events of a customer.
async fn events(autumn: &OfflineAutumn, user: &str) -> Vec<f64> {
    let list = autumn
        .client()
        .events()
        .list(&autumn_tower::models::ListEventsParams::new().customer_id(user))
        .await
        .unwrap();
    // Newest first from Autumn; oldest first here.
    list.list.iter().rev().map(|e| e.value).collect()
}

/// A client that records the path and `Idempotency-Key` of every call on the way to `autumn`.
/// Path and `Idempotency-Key` of each call.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

fn recording(autumn: &OfflineAutumn, seen: Seen) -> Client {
    let autumn = autumn.clone();
    let transport = service_fn(move |req: Request<Full<Bytes>>| {
        let key = req
            .headers()
            .get("idempotency-key")
            .map(|v| v.to_str().unwrap().to_owned());
        seen.lock()
            .unwrap()
            .push((req.uri().path().to_owned(), key));
        autumn.clone().oneshot(req)
    });
    Client::builder()
        .secret_key(autumn_tower::offline::PLACEHOLDER_KEY)
        .transport(transport)
        .build()
        .unwrap()
}

#[tokio::test]
async fn checks_before_and_tracks_once_after_a_success() {
    let autumn = OfflineAutumn::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let client = recording(&autumn, seen.clone());
    let layer = MeterLayer::new(client, by_header as Identify, "messages").amount(3.0);
    let mut svc = layer.layer(handler(runs.clone(), StatusCode::OK, None));

    let response = svc
        .ready()
        .await
        .unwrap()
        .call(request(Some("ann")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        &bytes[..],
        b"ann:Autumn",
        "the handler sees the check as an extension"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(
        events(&autumn, "ann").await,
        [3.0],
        "one track of the configured amount"
    );
    assert_eq!(remaining(&autumn.client(), "ann", "messages").await, 97.0);

    // The handler's Usage replaces the amount.
    let mut svc = layer.layer(handler(runs.clone(), StatusCode::OK, Some(7.5)));
    svc.ready()
        .await
        .unwrap()
        .call(request(Some("ann")))
        .await
        .unwrap();
    assert_eq!(events(&autumn, "ann").await, [3.0, 7.5]);
    let seen = seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v1/balances.check",
            "/v1/balances.track",
            "/v1/balances.check",
            "/v1/balances.track"
        ]
    );
    let (k1, k2) = (seen[1].1.clone().unwrap(), seen[3].1.clone().unwrap());
    assert_ne!(k1, k2, "one idempotency key per request");
}

/// A handler cannot refund the customer, nor track an amount JSON cannot carry: a negative or
/// non-finite `Usage` is ignored and the configured amount is tracked.
#[tokio::test]
async fn a_negative_or_infinite_usage_tracks_the_configured_amount() {
    let autumn = OfflineAutumn::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let layer = MeterLayer::new(autumn.client(), by_header as Identify, "messages").amount(2.0);
    for usage in [-5.0, f64::INFINITY, f64::NAN] {
        let mut svc = layer.layer(handler(runs.clone(), StatusCode::OK, Some(usage)));
        let response = svc
            .ready()
            .await
            .unwrap()
            .call(request(Some("bo")))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(events(&autumn, "bo").await, [2.0, 2.0, 2.0]);
}

#[tokio::test]
async fn errors_and_non_2xx_answers_track_nothing() {
    let autumn = OfflineAutumn::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let layer = MeterLayer::new(autumn.client(), by_header as Identify, "messages");
    for status in [
        StatusCode::BAD_REQUEST,
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::FOUND,
    ] {
        let svc = layer.layer(handler(runs.clone(), status, None));
        let response = svc.oneshot(request(Some("bo"))).await.unwrap();
        assert_eq!(response.status(), status);
    }
    let failing = layer.layer(service_fn(|_req: Request<Full<Bytes>>| async {
        Err::<Response<Full<Bytes>>, _>(std::io::Error::other("handler failed"))
    }));
    assert!(failing.oneshot(request(Some("bo"))).await.is_err());
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert!(events(&autumn, "bo").await.is_empty());
    assert_eq!(remaining(&autumn.client(), "bo", "messages").await, 100.0);
}

#[tokio::test]
async fn anonymous_is_401_and_denied_is_402_without_running_the_handler() {
    let autumn = OfflineAutumn::new();
    let runs = Arc::new(AtomicUsize::new(0));
    let layer = MeterLayer::new(autumn.client(), by_header as Identify, "messages")
        .amount(2.0)
        .with_preview();
    let svc = layer.layer(handler(runs.clone(), StatusCode::OK, None));

    let response = svc.clone().oneshot(request(None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = body_json(response).await;
    assert_eq!(body["code"], "no_customer_id");
    assert_eq!(body["statusCode"], 401);

    autumn
        .client()
        .balances()
        .track(&TrackParams::new("cy", "messages", 99.0))
        .await
        .unwrap();
    let response = svc.clone().oneshot(request(Some("cy"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYMENT_REQUIRED);
    let body = body_json(response).await;
    assert_eq!(body["code"], "insufficient_balance");
    assert_eq!(body["statusCode"], 402);
    assert_eq!(body["featureId"], "messages");
    assert_eq!(body["required"], 2.0);
    assert_eq!(body["balance"], 1.0);
    assert_eq!(body["preview"]["scenario"], "usage_limit", "{body}");
    assert!(body["preview"]["products"]
        .as_array()
        .is_some_and(|p| !p.is_empty()));
    assert_eq!(runs.load(Ordering::SeqCst), 0, "the handler never ran");
    assert_eq!(events(&autumn, "cy").await, [99.0], "nothing tracked");

    // A 4xx from Autumn (an unknown feature) is an integration bug: 502, never let through.
    let svc = MeterLayer::new(autumn.client(), by_header as Identify, "no_such_feature")
        .layer(handler(runs.clone(), StatusCode::OK, None));
    let response = svc.oneshot(request(Some("cy"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let body = body_json(response).await;
    assert_eq!(body["code"], "autumn_check_rejected");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("feature_not_found"),
        "{body}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn amount_and_entity_from_the_request_in_an_axum_route() {
    use axum::{routing::post, Router};
    let autumn = OfflineAutumn::new();
    let client = autumn.client();
    client
        .customers()
        .get_or_create(&GetOrCreateCustomerParams::new("dee"))
        .await
        .unwrap();
    client
        .entities()
        .create(&autumn_tower::models::CreateEntityParams::new(
            "dee", "seat_1", "messages",
        ))
        .await
        .unwrap();
    let layer = MeterLayer::new(client.clone(), by_header as Identify, "messages")
        .amount_from(|p: &Parts| {
            p.headers
                .get("x-cost")
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(1.0)
        })
        .entity_from(|p: &Parts| {
            p.headers
                .get("x-seat")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
    let app: Router = Router::new()
        .route(
            "/work",
            post(|| async { "done" }).route_layer(layer.clone()),
        )
        .route("/free", post(|| async { "free" }));
    let response = app
        .clone()
        .oneshot(
            Request::post("/work")
                .header("x-user-id", "dee")
                .header("x-cost", "4")
                .header("x-seat", "seat_1")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seat = client
        .balances()
        .check(&CheckParams::new("dee", "messages").entity_id("seat_1"))
        .await
        .unwrap();
    assert_eq!(
        seat.balance.unwrap().usage,
        4.0,
        "check and track on the entity"
    );
    // An unmetered route is untouched; a bad amount is a 500 before Autumn is called.
    let response = app
        .clone()
        .oneshot(
            Request::post("/free")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .oneshot(
            Request::post("/work")
                .header("x-user-id", "dee")
                .header("x-cost", "-3")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body_json(response).await["code"], "invalid_amount");
}

// -------------------------------------------------------------------------------------------------
// Reservations.

/// 20 concurrent requests for the last 5 units: at most 5 handlers ever run, and the balance ends
/// at exactly 0. Without reservation the same race lets every request through (checked too, so
/// the test can tell the difference).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reservations_never_run_more_handlers_than_units() {
    const N: usize = 20;
    const K: f64 = 5.0;
    for reserve in [true, false] {
        let autumn = OfflineAutumn::new();
        let client = autumn.client();
        client
            .balances()
            .track(&TrackParams::new("eve", "messages", 100.0 - K))
            .await
            .unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let runs = Arc::new(AtomicUsize::new(0));
        let slow = {
            let (running, peak, runs) = (running.clone(), peak.clone(), runs.clone());
            service_fn(move |_req: Request<Full<Bytes>>| {
                let (running, peak, runs) = (running.clone(), peak.clone(), runs.clone());
                async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
                }
            })
        };
        let mut layer = MeterLayer::new(client.clone(), by_header as Identify, "messages");
        if reserve {
            layer = layer.reserve();
        }
        let svc = layer.layer(slow);
        let barrier = Arc::new(tokio::sync::Barrier::new(N));
        let tasks: Vec<_> = (0..N)
            .map(|_| {
                let svc = svc.clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    svc.oneshot(request(Some("eve"))).await.unwrap().status()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        if reserve {
            assert_eq!(runs.load(Ordering::SeqCst), K as usize, "{statuses:?}");
            assert!(peak.load(Ordering::SeqCst) <= K as usize);
            assert_eq!(ok, K as usize);
            assert_eq!(
                statuses
                    .iter()
                    .filter(|s| **s == StatusCode::PAYMENT_REQUIRED)
                    .count(),
                N - K as usize
            );
            assert_eq!(remaining(&client, "eve", "messages").await, 0.0);
        } else {
            assert!(
                runs.load(Ordering::SeqCst) > K as usize,
                "without reservation the race lets more through ({} ran)",
                runs.load(Ordering::SeqCst)
            );
        }
    }
}

/// A reservation is given back when the handler fails, answers non-2xx, panics or is dropped;
/// confirmed with the handler's Usage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_are_released_on_failure_panic_and_drop() {
    let autumn = OfflineAutumn::new();
    let client = autumn.client();
    let layer = MeterLayer::new(client.clone(), by_header as Identify, "messages")
        .amount(10.0)
        .reserve();

    // Failure: 500, then an Err.
    let runs = Arc::new(AtomicUsize::new(0));
    let svc = layer.layer(handler(
        runs.clone(),
        StatusCode::INTERNAL_SERVER_ERROR,
        None,
    ));
    svc.oneshot(request(Some("fay"))).await.unwrap();
    assert_eq!(remaining(&client, "fay", "messages").await, 100.0);
    let failing = layer.layer(service_fn(|_req: Request<Full<Bytes>>| async {
        Err::<Response<Full<Bytes>>, _>(std::io::Error::other("handler failed"))
    }));
    assert!(failing.oneshot(request(Some("fay"))).await.is_err());
    assert_eq!(remaining(&client, "fay", "messages").await, 100.0);

    // Panic: the panic goes on (tokio reports it), the units come back.
    let (held_tx, held_rx) = tokio::sync::oneshot::channel::<f64>();
    let held_tx = Arc::new(Mutex::new(Some(held_tx)));
    let panicking = layer.layer(service_fn(move |_req: Request<Full<Bytes>>| {
        let held_tx = held_tx.clone();
        async move {
            if let Some(tx) = held_tx.lock().unwrap().take() {
                let _ = tx.send(0.0);
            }
            panic!("the handler blew up");
            #[allow(unreachable_code)]
            Ok::<Response<Full<Bytes>>, Infallible>(Response::new(Full::new(Bytes::new())))
        }
    }));
    let joined = tokio::spawn(panicking.oneshot(request(Some("fay")))).await;
    assert!(joined.unwrap_err().is_panic());
    held_rx.await.unwrap();
    eventually(|| async { remaining(&client, "fay", "messages").await == 100.0 }).await;

    // Drop: the request is abandoned while the handler works (a client gone, a timeout layer).
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let started_tx = Arc::new(Mutex::new(Some(started_tx)));
    let stuck = layer.layer(service_fn(move |_req: Request<Full<Bytes>>| {
        let started_tx = started_tx.clone();
        async move {
            if let Some(tx) = started_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
            std::future::pending::<()>().await;
            Ok::<Response<Full<Bytes>>, Infallible>(Response::new(Full::new(Bytes::new())))
        }
    }));
    let task = tokio::spawn(stuck.oneshot(request(Some("fay"))));
    started_rx.await.unwrap();
    assert_eq!(
        remaining(&client, "fay", "messages").await,
        90.0,
        "held while running"
    );
    task.abort();
    eventually(|| async { remaining(&client, "fay", "messages").await == 100.0 }).await;

    // Success with a Usage: confirmed at that amount.
    let svc = layer.layer(handler(runs.clone(), StatusCode::OK, Some(4.0)));
    svc.oneshot(request(Some("fay"))).await.unwrap();
    assert_eq!(remaining(&client, "fay", "messages").await, 96.0);
    assert_eq!(events(&autumn, "fay").await, [4.0]);
}

async fn eventually<F, Fut>(mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the condition never held");
}

// -------------------------------------------------------------------------------------------------
// Failure policies.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Failure {
    Status5xx,
    ConnectRefused,
    Timeout,
}

/// A client whose calls to `failing` (an operation such as `balances.check`) fail with `failure`;
/// every other call reaches `autumn`.
async fn faulty_client(autumn: &OfflineAutumn, failing: &'static str, failure: Failure) -> Client {
    let refused = if failure == Failure::ConnectRefused {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener); // nothing listens there any more: connections are refused
        Some(port)
    } else {
        None
    };
    let autumn = autumn.clone();
    let hyper = autumn_tower::transport::HyperTransport::new(&Default::default()).unwrap();
    let transport = service_fn(move |req: Request<Full<Bytes>>| {
        let autumn = autumn.clone();
        let hyper = hyper.clone();
        async move {
            let fails = req.uri().path() == format!("/v1/{failing}");
            if !fails {
                let r = autumn.oneshot(req).await.unwrap();
                return Ok::<_, autumn_tower::transport::BoxError>(r.map(|b| {
                    b.map_err(|e| -> autumn_tower::transport::BoxError { match e {} })
                        .boxed_unsync()
                }));
            }
            match failure {
                Failure::Status5xx => {
                    let mut r = Response::new(
                        Full::new(Bytes::from_static(
                            br#"{"message":"down","code":"internal_error"}"#,
                        ))
                        .map_err(|e| -> autumn_tower::transport::BoxError { match e {} })
                        .boxed_unsync(),
                    );
                    *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                    Ok(r)
                }
                Failure::ConnectRefused => {
                    let (mut parts, body) = req.into_parts();
                    parts.uri = format!("http://127.0.0.1:{}/v1/{failing}", refused.unwrap())
                        .parse()
                        .unwrap();
                    use autumn_tower::transport::HttpTransport;
                    let r = hyper.send(Request::from_parts(parts, body)).await?;
                    Ok(r.map(|b| b.boxed_unsync()))
                }
                Failure::Timeout => {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Err("unreachable".into())
                }
            }
        }
    });
    Client::builder()
        .secret_key(autumn_tower::offline::PLACEHOLDER_KEY)
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .transport(transport)
        .build()
        .unwrap()
}

/// Captures the `tracing` output of the current thread.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture() -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn errors(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|l| l.contains("ERROR"))
            .map(str::to_owned)
            .collect()
    }
}

#[tokio::test]
async fn check_failures_fail_open_by_default_and_503_when_closed() {
    for failure in [
        Failure::Status5xx,
        Failure::ConnectRefused,
        Failure::Timeout,
    ] {
        for closed in [false, true] {
            let autumn = OfflineAutumn::new();
            let client = faulty_client(&autumn, "balances.check", failure).await;
            let runs = Arc::new(AtomicUsize::new(0));
            let mut layer = MeterLayer::new(client, by_header as Identify, "messages");
            if closed {
                layer = layer.fail_closed();
            }
            let svc = layer.layer(handler(runs.clone(), StatusCode::OK, None));
            let (logs, _guard) = Logs::capture();
            let response = svc.oneshot(request(Some("gil"))).await.unwrap();
            let errors = logs.errors();
            let case = format!("{failure:?}, closed: {closed}");
            assert_eq!(errors.len(), 1, "{case}: one error line: {errors:#?}");
            assert!(
                errors[0].contains("operation=\"balances.check\""),
                "{case}: {}",
                errors[0]
            );
            let status = match failure {
                Failure::Status5xx => "status=503",
                Failure::ConnectRefused => "status=connect",
                Failure::Timeout => "status=timeout",
            };
            assert!(errors[0].contains(status), "{case}: {}", errors[0]);
            if closed {
                assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{case}");
                assert_eq!(body_json(response).await["code"], "autumn_unavailable");
                assert_eq!(runs.load(Ordering::SeqCst), 0, "{case}");
                assert!(events(&autumn, "gil").await.is_empty());
            } else {
                assert_eq!(response.status(), StatusCode::OK, "{case}");
                let bytes = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(&bytes[..], b"gil:FailedOpen");
                assert_eq!(runs.load(Ordering::SeqCst), 1, "{case}");
                // Failing open skips the track (as Autumn's SDK drops it): one error line, no event.
                assert!(events(&autumn, "gil").await.is_empty(), "{case}");
            }
        }
    }
}

#[tokio::test]
async fn track_failures_never_change_the_answer_and_log_once() {
    for failure in [
        Failure::Status5xx,
        Failure::ConnectRefused,
        Failure::Timeout,
    ] {
        for closed in [false, true] {
            let autumn = OfflineAutumn::new();
            let client = faulty_client(&autumn, "balances.track", failure).await;
            let runs = Arc::new(AtomicUsize::new(0));
            let mut layer = MeterLayer::new(client, by_header as Identify, "messages");
            if closed {
                layer = layer.fail_closed();
            }
            let svc = layer.layer(handler(runs.clone(), StatusCode::OK, None));
            let (logs, _guard) = Logs::capture();
            let response = svc.oneshot(request(Some("hal"))).await.unwrap();
            let case = format!("{failure:?}, closed: {closed}");
            assert_eq!(response.status(), StatusCode::OK, "{case}");
            let errors = logs.errors();
            assert_eq!(errors.len(), 1, "{case}: {errors:#?}");
            assert!(
                errors[0].contains("operation=\"balances.track\""),
                "{case}: {}",
                errors[0]
            );
            assert!(events(&autumn, "hal").await.is_empty(), "{case}: dropped");
        }
    }
}

#[tokio::test]
async fn the_typed_client_fails_open_on_demand() {
    for failure in [
        Failure::Status5xx,
        Failure::ConnectRefused,
        Failure::Timeout,
    ] {
        let autumn = OfflineAutumn::new();
        let checks = faulty_client(&autumn, "balances.check", failure).await;
        let (logs, _guard) = Logs::capture();
        let params = CheckParams::new("ida", "messages");
        assert!(checks
            .balances()
            .check(&params)
            .await
            .unwrap_err()
            .is_unavailable());
        let open = checks.balances().check_fail_open(&params).await.unwrap();
        assert!(open.allowed && open.balance.is_none(), "{failure:?}");
        let tracks = faulty_client(&autumn, "balances.track", failure).await;
        let track = TrackParams::new("ida", "messages", 2.0);
        let open = tracks.balances().track_fail_open(&track).await.unwrap();
        assert_eq!(open.value, 0.0);
        assert_eq!(
            logs.errors().len(),
            2,
            "{failure:?}: one line per failed-open call"
        );
    }
    // A 4xx is never swallowed.
    let autumn = OfflineAutumn::new();
    let err = autumn
        .client()
        .balances()
        .check_fail_open(&CheckParams::new("ida", "no_such_feature"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
}

// -------------------------------------------------------------------------------------------------
// The boolean cache.

/// A transport that counts `balances.check` calls on the way to `autumn`.
fn counting(autumn: &OfflineAutumn, checks: Arc<AtomicUsize>) -> Client {
    let autumn = autumn.clone();
    let transport = service_fn(move |req: Request<Full<Bytes>>| {
        if req.uri().path() == "/v1/balances.check" {
            checks.fetch_add(1, Ordering::SeqCst);
        }
        autumn.clone().oneshot(req)
    });
    Client::builder()
        .secret_key(autumn_tower::offline::PLACEHOLDER_KEY)
        .transport(transport)
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn boolean_features_are_cached_for_the_ttl_and_metered_ones_never() {
    let catalog = Catalog::new()
        .feature(Feature::boolean("sso", "SSO"))
        .feature(Feature::metered("messages", "Messages"))
        .plan(
            Plan::new("team", "Team")
                .auto_enable(true)
                .item(PlanItem::flag("sso"))
                .item(PlanItem::new("messages", 50.0)),
        );
    let autumn = OfflineAutumn::with_catalog(catalog);
    let checks = Arc::new(AtomicUsize::new(0));
    let client = counting(&autumn, checks.clone());
    let runs = Arc::new(AtomicUsize::new(0));
    let ttl = Duration::from_secs(30);

    let sso = MeterLayer::new(client.clone(), by_header as Identify, "sso")
        .cache_boolean_features(100, ttl)
        .layer(handler(runs.clone(), StatusCode::OK, None));
    let first = sso.clone().oneshot(request(Some("jo"))).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(checks.load(Ordering::SeqCst), 1);
    let second = sso.clone().oneshot(request(Some("jo"))).await.unwrap();
    let bytes = second.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&bytes[..], b"jo:Cache");
    assert_eq!(
        checks.load(Ordering::SeqCst),
        1,
        "the second request made no check call"
    );
    // Another customer is checked.
    sso.clone().oneshot(request(Some("kim"))).await.unwrap();
    assert_eq!(checks.load(Ordering::SeqCst), 2);
    // After the TTL, Autumn is asked again.
    tokio::time::advance(ttl + Duration::from_secs(1)).await;
    sso.clone().oneshot(request(Some("jo"))).await.unwrap();
    assert_eq!(checks.load(Ordering::SeqCst), 3);
    assert!(
        events(&autumn, "jo").await.is_empty(),
        "a boolean feature is never tracked"
    );

    // A metered feature with the cache on: every request is checked and tracked.
    checks.store(0, Ordering::SeqCst);
    let messages = MeterLayer::new(client, by_header as Identify, "messages")
        .cache_boolean_features(100, ttl)
        .layer(handler(runs.clone(), StatusCode::OK, None));
    for _ in 0..3 {
        messages.clone().oneshot(request(Some("jo"))).await.unwrap();
    }
    assert_eq!(checks.load(Ordering::SeqCst), 3);
    assert_eq!(events(&autumn, "jo").await.len(), 3);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        7,
        "4 sso requests and 3 message requests ran"
    );
    let _ = CheckSource::Autumn;
}
