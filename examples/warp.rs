//! The Autumn routes beside a warp app.
//!
//! ```text
//! AUTUMN_SECRET_KEY=am_sk_... cargo run --example warp
//! ```
//!
//! warp cannot mount a tower service inside a filter, so the wrapping goes the other way: the warp filter
//! becomes a tower service (`warp::service`), `AutumnLayer` wraps it, and hyper-util serves the result.

use std::convert::Infallible;
use std::future::{ready, Ready};

use autumn_tower::{AutumnLayer, AutumnService, Identity};
use http::request::Parts;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tower::Layer;
use warp::Filter;

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

    // The warp app you already have.
    let hello = warp::path!("hello" / String).map(|name| format!("hello, {name}"));
    let app = AutumnLayer::new(autumn).layer(warp::service(hello));

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            if let Err(e) = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection error: {e}");
            }
        });
    }
}
