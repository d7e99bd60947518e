//! `AutumnLayer` around an existing axum app: `/api/autumn/*` goes to Autumn, the rest to your routes.
//!
//! ```text
//! AUTUMN_SECRET_KEY=am_sk_... cargo run --example layer
//! ```

use std::convert::Infallible;
use std::future::{ready, Ready};

use autumn_tower::{AutumnLayer, AutumnService, Identity};
use axum::routing::get;
use axum::Router;
use http::request::Parts;

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

    // The app you already have.
    let app = Router::new()
        .route("/", get(|| async { "my app" }))
        .route("/health", get(|| async { "ok" }))
        .layer(AutumnLayer::new(autumn));

    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
