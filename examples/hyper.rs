//! The Autumn routes on a raw hyper 1 server, no framework.
//!
//! ```text
//! AUTUMN_SECRET_KEY=am_sk_... cargo run --example hyper
//! ```
//!
//! `AutumnService` is a `tower::Service`; hyper-util's `TowerToHyperService` adapts it to hyper, and the
//! `auto` builder serves HTTP/1.1 and HTTP/2 on the same port. Requests arrive with their full path
//! (`/api/autumn/attach`), which the service accepts.

use std::convert::Infallible;
use std::future::{ready, Ready};

use autumn_tower::{AutumnService, Identity};
use http::request::Parts;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;

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
    // Reads AUTUMN_SECRET_KEY and AUTUMN_API_URL.
    let autumn = AutumnService::builder().identify(identify).build()?;

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);

    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(autumn.clone());
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
