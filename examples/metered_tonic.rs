//! A tonic gRPC server with one metered method: each `grpc.health.v1.Health/Check` costs one
//! `messages` (checked before, tracked after an OK answer); `Watch` and every other method are free.
//! Runs on the offline Autumn when `AUTUMN_SECRET_KEY` is not set (plan `free`: 100 messages a month).
//!
//! ```text
//! cargo run --example metered_tonic --all-features
//! grpcurl -plaintext -H 'x-customer-id: ann' 127.0.0.1:50051 grpc.health.v1.Health/Check
//! ```
//!
//! Environment: `AUTUMN_SECRET_KEY` (absent: the offline Autumn), `HOST`, `PORT` (default
//! `127.0.0.1:50051`). The demo identify hook reads the `x-customer-id` metadata (gRPC metadata are
//! HTTP/2 headers, so the same hook as for HTTP routes works).
//!
//! # How a refusal reaches a gRPC client
//!
//! `MeterLayer` answers a refused request itself with an HTTP status and a JSON body (401, 402, 503,
//! 502). A gRPC client does not read either: tonic's client tries to decode the JSON as a gRPC frame and
//! fails with `Internal` ("invalid compression flag ... while receiving response with status: 402
//! Payment Required"), losing the feature and the message. So this example turns the layer's own
//! answers into gRPC statuses (HTTP 200, `grpc-status` in the headers, a "trailers-only" answer):
//!
//! | `MeterLayer` | gRPC status |
//! | --- | --- |
//! | 402 `insufficient_balance` / `feature_not_included` | `RESOURCE_EXHAUSTED` (8), a quota ran out |
//! | 401 `no_customer_id` | `UNAUTHENTICATED` (16) |
//! | 503 `autumn_unavailable` (with `fail_closed`) | `UNAVAILABLE` (14) |
//! | anything else (502 `autumn_check_rejected`, 500) | `INTERNAL` (13) |
//!
//! The message is `<code>: <message>`, and the metadata `autumn-code` and `autumn-feature-id` carry
//! Autumn's error code and the feature, for clients that show a paywall.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::task::{Context, Poll};

use autumn_tower::metering::{Meter, MeterLayer};
use autumn_tower::offline::{OfflineAutumn, PLACEHOLDER_KEY};
use autumn_tower::{Client, Identity};
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Either};
use tonic::body::Body;
use tonic::metadata::MetadataValue;
use tonic::transport::Server;
use tonic::{Code, Status};
use tower::{Layer, Service, ServiceExt};

/// The one metered method.
const METERED: &str = "/grpc.health.v1.Health/Check";

/// Who is calling. A real app reads its session (a token in the metadata) here.
fn identify(parts: &Parts) -> Ready<Result<Option<Identity>, Infallible>> {
    let id = parts
        .headers
        .get("x-customer-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(Identity::new);
    ready(Ok(id))
}

/// Meters the calls to one method path (through a [`MeterLayer`]) and passes every other call
/// straight to the service; the layer's own refusals become gRPC statuses.
#[derive(Clone)]
struct MeterMethodLayer<L> {
    path: &'static str,
    meter: L,
}

impl<S: Clone, L: Layer<S, Service = Meter<S>>> Layer<S> for MeterMethodLayer<L> {
    type Service = MeterMethod<S>;

    fn layer(&self, inner: S) -> MeterMethod<S> {
        MeterMethod {
            path: self.path,
            metered: self.meter.layer(inner.clone()),
            plain: inner,
        }
    }
}

/// The service [`MeterMethodLayer`] makes.
#[derive(Clone)]
struct MeterMethod<S> {
    path: &'static str,
    metered: Meter<S>,
    plain: S,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<Request<Body>> for MeterMethod<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        // Each call drives a clone to readiness itself (`oneshot`), as routers do.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if req.uri().path() != self.path {
            return Box::pin(self.plain.clone().oneshot(req));
        }
        let metered = self.metered.clone().oneshot(req);
        Box::pin(async move {
            let (parts, body) = metered.await?.into_parts();
            Ok(match body {
                Either::Right(body) => Response::from_parts(parts, body),
                // The layer answered itself (the service never ran).
                Either::Left(refusal) => {
                    let json = refusal.collect().await.map(|c| c.to_bytes());
                    grpc_status(parts.status, &json.unwrap_or_default())
                }
            })
        })
    }
}

/// `MeterLayer`'s JSON refusal as a gRPC status (see the module docs).
fn grpc_status(status: StatusCode, json: &[u8]) -> Response<Body> {
    let error: serde_json::Value = serde_json::from_slice(json).unwrap_or_default();
    let text = |key: &str| error[key].as_str().unwrap_or_default().to_owned();
    let code = match status {
        StatusCode::PAYMENT_REQUIRED => Code::ResourceExhausted,
        StatusCode::UNAUTHORIZED => Code::Unauthenticated,
        StatusCode::SERVICE_UNAVAILABLE => Code::Unavailable,
        _ => Code::Internal,
    };
    let mut grpc = Status::new(code, format!("{}: {}", text("code"), text("message")));
    for (key, field) in [("autumn-code", "code"), ("autumn-feature-id", "featureId")] {
        if let Ok(value) = MetadataValue::try_from(text(field)) {
            if !value.is_empty() {
                grpc.metadata_mut().insert(key, value);
            }
        }
    }
    grpc.into_http()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::WARN)
        .init();
    let client = match std::env::var("AUTUMN_SECRET_KEY") {
        Ok(key) if !key.trim().is_empty() => Client::from_env()?,
        _ => {
            eprintln!("AUTUMN_SECRET_KEY is not set: billing against the offline Autumn");
            Client::builder()
                .secret_key(PLACEHOLDER_KEY)
                .transport(OfflineAutumn::new())
                .build()?
        }
    };
    let meter = MeterMethodLayer {
        path: METERED,
        meter: MeterLayer::new(client, identify, "messages"),
    };
    let (_reporter, health) = tonic_health::server::health_reporter();

    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|_| format!("PORT={p:?} is not a port"))?,
        Err(_) => 50051,
    };
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    println!(
        "metered gRPC listening on http://{}",
        listener.local_addr()?
    );
    Server::builder()
        .layer(meter)
        .add_service(health)
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
        .await?;
    Ok(())
}
