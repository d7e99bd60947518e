//! Per-route metering in axum: `/chat` costs one message (checked before, tracked after), `/summary`
//! costs what the handler reports, `/health` is free. Runs on the offline Autumn when
//! `AUTUMN_SECRET_KEY` is not set.
//!
//! ```text
//! cargo run --example metered_axum --features offline
//! curl -X POST -H 'x-user-id: ann' localhost:3000/chat       # 200, 99 messages left
//! curl -X POST localhost:3000/chat                            # 401 no_customer_id
//! ```

use std::convert::Infallible;
use std::future::{ready, Ready};

use autumn_tower::metering::{MeterLayer, Metered, Usage};
use autumn_tower::offline::OfflineAutumn;
use autumn_tower::{Client, Identity};
use axum::routing::{get, post};
use axum::{Extension, Router};
use http::request::Parts;

/// Who is calling. A real app reads its session here; the demo trusts the `x-user-id` header.
fn identify(parts: &Parts) -> Ready<Result<Option<Identity>, Infallible>> {
    let id = parts
        .headers
        .get("x-user-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(Identity::new);
    ready(Ok(id))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let client = match std::env::var("AUTUMN_SECRET_KEY") {
        Ok(_) => Client::from_env()?,
        Err(_) => {
            eprintln!("AUTUMN_SECRET_KEY is not set: billing against the offline Autumn");
            Client::builder()
                .secret_key("am_sk_offline")
                .transport(OfflineAutumn::new())
                .build()?
        }
    };
    let messages = MeterLayer::new(client, identify, "messages").with_preview();

    let app = Router::new()
        .route("/chat", post(chat).layer(messages.clone()))
        .route(
            "/summary",
            post(summary).layer(messages.amount(5.0).reserve()),
        )
        .route("/health", get(|| async { "ok" }));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// One message, tracked after this answers 2xx.
async fn chat(Extension(metered): Extension<Metered>) -> String {
    let left = metered
        .check
        .as_ref()
        .and_then(|c| c.balance.as_ref())
        .map_or(f64::NAN, |b| b.remaining);
    format!(
        "hello {} ({left} messages left before this one)\n",
        metered.customer_id
    )
}

/// Reserves 5 messages, confirms the 3 it really used.
async fn summary() -> (Extension<Usage>, &'static str) {
    (Extension(Usage(3.0)), "a short summary\n")
}
