//! A tonic gRPC server with gRPC-web and the Autumn routes on the same port.
//!
//! ```text
//! AUTUMN_SECRET_KEY=am_sk_... cargo run --example tonic_web
//! ```
//!
//! tonic-web answers 400 to plain HTTP/1 requests that are not gRPC-web, so `AutumnLayer` sits outside it:
//! `/api/autumn/*` is answered before gRPC-web sees the request; everything else is gRPC or gRPC-web.
//! The gRPC service here is the standard health service.

use std::convert::Infallible;
use std::future::{ready, Ready};

use autumn_tower::{AutumnLayer, AutumnService, Identity};
use http::request::Parts;
use tonic::transport::Server;
use tonic_web::GrpcWebLayer;

/// Who is calling. A real app reads its session here; the demo trusts the `x-customer-id` header.
fn identify(parts: &Parts) -> Ready<Result<Option<Identity>, Infallible>> {
    let id = parts
        .headers
        .get("x-customer-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(Identity::new);
    ready(Ok(id))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let autumn = AutumnService::builder().identify(identify).build()?;
    let (_reporter, health) = tonic_health::server::health_reporter();

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    Server::builder()
        .accept_http1(true)
        // Outermost first: Autumn answers its routes before gRPC-web sees them.
        .layer(AutumnLayer::new(autumn))
        .layer(GrpcWebLayer::new())
        .add_service(health)
        .serve_with_incoming(tokio_stream_incoming(listener))
        .await?;
    Ok(())
}

/// The listener as the stream of connections tonic serves.
fn tokio_stream_incoming(
    listener: tokio::net::TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    tokio_stream::wrappers::TcpListenerStream::new(listener)
}
