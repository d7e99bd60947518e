//! The servers of the load ablation ladder (`bash benches/load/ladder.sh`, see BENCHMARKS.md): each rung
//! adds one part of the stack between the pass-through proxy (`benches/load/passthrough.rs`) and the
//! quickstart (`examples/quickstart.rs`). Not an example to copy: it uses the crate's internal `__bench`
//! hooks.
//!
//! ```text
//! cargo build --release --example ladder --features __bench
//! ladder <rung> <listen addr> <upstream base URL>
//! ```
//!
//! Rungs, served by a bare hyper HTTP/1 server (no axum, no CORS, no tracing subscriber):
//! - `client`: the browser's body goes through the crate's `Client` (its headers, per-attempt deadline,
//!   retry budget, boxed transport, collected answer) to `POST /v1/customers.get_or_create`; the answer's
//!   bytes come back unchanged.
//! - `copy`: the `AutumnService` (routing, identify, request conversion, the same client) with a
//!   response conversion that only copies the answer's bytes.
//! - `service`: the full `AutumnService`.
//! - `axum`: the full `AutumnService` as routes of an axum `Router` (`route_service`, as the quickstart
//!   mounted it until it put `AutumnLayer` in front of its router), served by `axum::serve`.
//! - `router`: the same axum `Router`, served by the bare hyper HTTP/1 server of the rungs above
//!   (axum's routing without `axum::serve`'s connection task).
//!
//! `ladder convert <answer.json> <count>` runs only the response conversion, `count` times, on the
//! answer in the file (minified first, as the fake upstream serves it), and exits: the conversion's
//! instructions alone under callgrind.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::SocketAddr;

use autumn_tower::{AutumnService, Client, Identity};
use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

type Identify = fn(&Parts) -> Ready<Result<Option<Identity>, Infallible>>;

/// The quickstart's demo identify hook.
fn identify(parts: &Parts) -> Ready<Result<Option<Identity>, Infallible>> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let identity = header("x-customer-id").map(|id| {
        let mut identity = Identity::new(id);
        identity.customer_data.name = header("x-customer-name");
        identity.customer_data.email = header("x-customer-email");
        identity
    });
    ready(Ok(identity))
}

async fn forward(
    req: Request<Incoming>,
    client: Client,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let answer = match req.into_body().collect().await {
        Ok(body) => {
            autumn_tower::bench::post(&client, "/v1/customers.get_or_create", body.to_bytes()).await
        }
        Err(_) => {
            let mut resp = Response::new(Full::new(Bytes::from_static(b"bad body")));
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            return Ok(resp);
        }
    };
    Ok(match answer {
        Ok((status, body)) => {
            let mut resp = Response::new(Full::new(body));
            *resp.status_mut() = status;
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(_) => {
            let mut resp = Response::new(Full::new(Bytes::from_static(b"upstream failed")));
            *resp.status_mut() = StatusCode::BAD_GATEWAY;
            resp
        }
    })
}

/// JSON text without the whitespace between tokens (keys keep their order).
fn minified(text: &[u8]) -> Vec<u8> {
    let (mut out, mut in_string, mut escaped) = (Vec::with_capacity(text.len()), false, false);
    for &c in text {
        if in_string {
            in_string = escaped || c != b'"';
            escaped = !escaped && c == b'\\';
        } else if c.is_ascii_whitespace() {
            continue;
        } else {
            in_string = c == b'"';
        }
        out.push(c);
    }
    out
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: ladder <client|copy|service|axum|router> <listen addr> <upstream base URL>\n       ladder convert <answer.json> <count>";
    let rung = args.next().expect(usage);
    if rung == "convert" {
        let text = std::fs::read(args.next().expect(usage)).expect("read the answer");
        let count: usize = args.next().expect(usage).parse().expect(usage);
        let body = minified(&text);
        let mut total = 0;
        for _ in 0..count {
            total += autumn_tower::bench::convert_customer(std::hint::black_box(&body))
                .expect("the answer converts");
        }
        println!("{count} conversions, {total} bytes written");
        return;
    }
    let listen: SocketAddr = args.next().expect(usage).parse().expect(usage);
    let upstream = args.next().expect(usage);
    let secret = "am_sk_test_load_comparison";
    let client = Client::builder()
        .secret_key(secret)
        .base_url(&upstream)
        .build()
        .expect("client");
    let service: Option<AutumnService<Identify>> = match rung.as_str() {
        "client" => None,
        "copy" | "service" | "axum" | "router" => {
            if rung == "copy" {
                autumn_tower::bench::copy_conversion();
            }
            Some(
                AutumnService::builder()
                    .identify(identify as Identify)
                    .client(client.clone())
                    .build()
                    .expect("service"),
            )
        }
        _ => panic!("{usage}"),
    };

    let listener = TcpListener::bind(listen).await.expect("bind listen addr");
    println!(
        "ladder rung {rung} listening on http://{} -> {upstream}",
        listener.local_addr().unwrap()
    );
    let router = service.as_ref().map(|service| {
        axum::Router::new()
            .route_service("/api/autumn", service.clone())
            .route_service("/api/autumn/{*route}", service.clone())
    });
    if let (Some(router), "axum") = (&router, rung.as_str()) {
        // TCP_NODELAY on every connection, as the quickstart and the bare hyper rungs set it.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, router.clone()).await.expect("serve");
        return;
    }
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(stream);
        match (&service, &router) {
            (Some(_), Some(router)) if rung == "router" => {
                let svc = TowerToHyperService::new(router.clone());
                tokio::spawn(async move {
                    let _ = http1::Builder::new().serve_connection(io, svc).await;
                });
            }
            (Some(service), _) => {
                let svc = TowerToHyperService::new(service.clone());
                tokio::spawn(async move {
                    let _ = http1::Builder::new().serve_connection(io, svc).await;
                });
            }
            (None, _) => {
                let client = client.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| forward(req, client.clone()));
                    let _ = http1::Builder::new().serve_connection(io, svc).await;
                });
            }
        }
    }
}
