//! Organisation billing: every member of an org acts for the org's Autumn customer, but only admins may
//! change the plan.
//!
//! ```text
//! cargo run --example authorize
//! ```
//!
//! The demo reads who is calling from two headers (a real app reads its session): `x-org` names the org
//! (the Autumn customer) and `x-role: admin` marks an admin. Members get 403 `forbidden` on the routes that
//! change the plan, and everything else works for them. Runs on the embedded offline Autumn unless
//! `AUTUMN_SECRET_KEY` is set.

use std::convert::Infallible;

use autumn_tower::authorize::Access;
use autumn_tower::offline::OfflineAutumn;
use autumn_tower::{AutumnService, Identity};
use http::request::Parts;

/// What the app's auth middleware would have put into the request's extensions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Admin,
    Member,
}

/// The routes that change what the org pays for.
const PLAN_CHANGES: &[&str] = &[
    "attach",
    "multiAttach",
    "updateSubscription",
    "setupPayment",
    "openCustomerPortal",
];

fn role(parts: &Parts) -> Role {
    match parts.headers.get("x-role").and_then(|v| v.to_str().ok()) {
        Some("admin") => Role::Admin,
        _ => Role::Member,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let builder = AutumnService::builder()
        .identify(|parts: &Parts| {
            let org = parts
                .headers
                .get("x-org")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            async move { Ok::<_, Infallible>(org.map(Identity::new)) }
        })
        .authorize(|access: &Access<'_>| {
            let allowed =
                role(access.parts) == Role::Admin || !PLAN_CHANGES.contains(&access.route);
            async move { allowed }
        });
    let autumn = match std::env::var("AUTUMN_SECRET_KEY") {
        Ok(key) if !key.trim().is_empty() => builder.secret_key(key).build()?,
        _ => builder.offline(OfflineAutumn::new()).build()?,
    };

    let app = axum::Router::new().nest_service("/api/autumn", autumn);
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    let addr = listener.local_addr()?;
    println!("authorize example listening on http://{addr}");
    eprintln!(
        "  curl -s -X POST http://{addr}/api/autumn/attach -H 'x-org: acme' \
         -H 'content-type: application/json' -d '{{\"planId\":\"pro\"}}'   (403: members may not)\n  \
         the same with -H 'x-role: admin' goes through"
    );
    axum::serve(listener, app).await?;
    Ok(())
}
