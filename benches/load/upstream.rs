//! The fake Autumn of the load comparison: answers prepared customer JSON as fast as hyper allows and
//! counts the TCP connections it accepts.
//!
//! ```text
//! fake-upstream <listen addr> <control addr>
//! ```
//!
//! On the listen address:
//! - `POST /v1/customers.get_or_create` (the current protocol, autumn-js 1.x and this crate) and
//!   `POST /api/autumn/getOrCreateCustomer` (the same answer, for the direct and pass-through
//!   measurements): `fixtures/customer.json`, minified.
//! - `POST /v1/customers` (the v1.2 API behind the legacy `customers` route, used by the Python SDK and
//!   `AUTUMN_PROTOCOL=legacy`): `fixtures/customer-v1.2.json`, minified.
//! - anything else: 404.
//!
//! The request body is read and dropped, nothing is parsed. On the control address (a listener of its
//! own, so that asking for the counts does not change them):
//! - `GET /__stats`: `{"accepted":…,"open":…,"peak_open":…,"requests":…}`, where `accepted` counts
//!   every connection accepted on the listen address since start, `open` those open now, and
//!   `peak_open` the most open at once since start or the last reset.
//! - `POST /__reset_peak`: sets `peak_open` to `open`.
//!
//! Prints `fake upstream listening on http://ADDR …` once both listeners are bound, and the final counts
//! on stderr when stopped by SIGTERM or SIGINT.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    open: AtomicU64,
    peak_open: AtomicU64,
    requests: AtomicU64,
}

struct Answers {
    current: Bytes,
    legacy: Bytes,
}

fn minified(text: &str) -> Bytes {
    let value: serde_json::Value = serde_json::from_str(text).expect("fixture is JSON");
    Bytes::from(serde_json::to_vec(&value).expect("JSON serialises"))
}

fn json(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}

async fn answer(
    req: Request<Incoming>,
    answers: &Answers,
    counters: &Counters,
) -> Response<Full<Bytes>> {
    counters.requests.fetch_add(1, Relaxed);
    let (parts, body) = req.into_parts();
    // Read the body to its end so that the connection can be reused; its content does not matter.
    let _ = body.collect().await;
    if parts.method != Method::POST {
        return json(StatusCode::NOT_FOUND, Bytes::from_static(b"{}"));
    }
    match parts.uri.path() {
        "/v1/customers.get_or_create" | "/api/autumn/getOrCreateCustomer" => {
            json(StatusCode::OK, answers.current.clone())
        }
        "/v1/customers" | "/api/autumn/customers" | "/api/autumn/customers/" => {
            json(StatusCode::OK, answers.legacy.clone())
        }
        _ => json(
            StatusCode::NOT_FOUND,
            Bytes::from_static(br#"{"message":"not found","code":"not_found"}"#),
        ),
    }
}

fn stats(counters: &Counters) -> String {
    format!(
        r#"{{"accepted":{},"open":{},"peak_open":{},"requests":{}}}"#,
        counters.accepted.load(Relaxed),
        counters.open.load(Relaxed),
        counters.peak_open.load(Relaxed),
        counters.requests.load(Relaxed),
    )
}

async fn control(req: Request<Incoming>, counters: &Counters) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/__stats") => json(StatusCode::OK, Bytes::from(stats(counters))),
        (&Method::POST, "/__reset_peak") => {
            counters
                .peak_open
                .store(counters.open.load(Relaxed), Relaxed);
            json(StatusCode::OK, Bytes::from(stats(counters)))
        }
        _ => json(StatusCode::NOT_FOUND, Bytes::from_static(b"{}")),
    }
}

async fn serve_main(listener: TcpListener, answers: Arc<Answers>, counters: Arc<Counters>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let open = counters.open.fetch_add(1, Relaxed) + 1;
        counters.accepted.fetch_add(1, Relaxed);
        counters.peak_open.fetch_max(open, Relaxed);
        let answers = answers.clone();
        let counters = counters.clone();
        tokio::spawn(async move {
            let svc = service_fn(|req| {
                let answers = answers.clone();
                let counters = counters.clone();
                async move { Ok::<_, Infallible>(answer(req, &answers, &counters).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
            counters.open.fetch_sub(1, Relaxed);
        });
    }
}

async fn serve_control(listener: TcpListener, counters: Arc<Counters>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let counters = counters.clone();
        tokio::spawn(async move {
            let svc = service_fn(|req| {
                let counters = counters.clone();
                async move { Ok::<_, Infallible>(control(req, &counters).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: fake-upstream <listen addr> <control addr>";
    let listen: SocketAddr = args.next().expect(usage).parse().expect(usage);
    let control_addr: SocketAddr = args.next().expect(usage).parse().expect(usage);

    let answers = Arc::new(Answers {
        current: minified(include_str!("fixtures/customer.json")),
        legacy: minified(include_str!("fixtures/customer-v1.2.json")),
    });
    let counters = Arc::new(Counters::default());
    let main_listener = TcpListener::bind(listen).await.expect("bind listen addr");
    let control_listener = TcpListener::bind(control_addr)
        .await
        .expect("bind control addr");
    println!(
        "fake upstream listening on http://{} (answers: {} bytes current, {} bytes v1.2; control on http://{})",
        main_listener.local_addr().unwrap(),
        answers.current.len(),
        answers.legacy.len(),
        control_listener.local_addr().unwrap(),
    );
    tokio::spawn(serve_control(control_listener, counters.clone()));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = serve_main(main_listener, answers, counters.clone()) => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("fake upstream: {}", stats(&counters));
}
