//! The quickstart: an axum server that is the backend of an autumn-js app.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Environment:
//! - `AUTUMN_SECRET_KEY`: your Autumn secret key. Without it the server runs on the embedded offline Autumn,
//!   whose own API and checkout pages listen on `127.0.0.1` only (whatever `HOST` says).
//! - `AUTUMN_API_URL`: the Autumn API base URL (default `https://api.useautumn.com`; `/v1` is tolerated).
//! - `HOST`, `PORT`: where to listen (default `127.0.0.1:3000`).
//! - `FRONTEND_ORIGIN`: the origin of your frontend, allowed by CORS with credentials
//!   (default `http://localhost:5173`, Vite's dev server).
//! - `AUTUMN_OFFLINE_CATALOG`: without a key, a JSON catalogue for the offline Autumn (default: the bundled
//!   one, see `autumn_tower::offline::Catalog`).
//! - `AUTUMN_PROTOCOL`: `legacy` serves the routes of autumn-js 0.x and the Python SDK (v1.2 API) instead
//!   of the current ones.
//!
//! The demo identify hook reads who the caller is from the headers `x-customer-id` (absent: anonymous),
//! `x-customer-name` and `x-customer-email`, so you can try every route with `curl`.
//!
//! Besides the Autumn routes (`/api/autumn/*`) it serves a billed route of its own and a page:
//! - `POST /api/messages` costs one `messages` (through `MeterLayer`, with the same identify hook): on
//!   the offline Autumn's `free` plan a new customer can send 100, the 101st answers 402 naming
//!   `messages`; after paying for `pro` there are 2,000 a month.
//! - `GET /` is a demo page (`examples/quickstart/index.html`, plain HTML and JavaScript): the
//!   visitor's plan and balance, a "Send message" button, the paywall on 402 and an "Upgrade to Pro"
//!   button that goes through the checkout page and back. It keeps a random visitor id in
//!   `localStorage` and sends it as `x-customer-id`.

use std::convert::Infallible;
use std::future::{ready, Ready};

use autumn_tower::metering::{MeterLayer, Metered};
use autumn_tower::offline::{Catalog, OfflineAutumn};
use autumn_tower::{AutumnLayer, AutumnService, Identity, Protocol};
use axum::body::Body;
use axum::extract::Request;
use axum::response::{Html, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Extension, Json, Router, ServiceExt as _};
use http::header::{HeaderName, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderValue, Method};
use serde_json::{json, Value};
use tower::{Service, ServiceBuilder};
use tower_http::cors::CorsLayer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// Who is calling. A real app reads its session here (a cookie, a JWT, or the user an auth middleware
/// put into `parts.extensions`); the demo trusts headers so it can be tried with `curl`.
/// The type of the demo identify hook.
type DemoIdentify = fn(&Parts) -> Ready<Result<Option<Identity>, Infallible>>;

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

/// The demo page served at `/` (plain HTML and JavaScript, no build step).
const DEMO_PAGE: &str = include_str!("quickstart/index.html");

/// The feature `POST /api/messages` uses up, one per request.
const MESSAGES: &str = "messages";

/// The app, behind CORS for the frontend's origin: `AutumnLayer` answers the Autumn routes under
/// `/api/autumn` and hands every other request to the app's own router, which holds the metered
/// `POST /api/messages` and (for the current protocol, whose routes it calls) the demo page at `/`.
///
/// The Autumn routes could as well be routes of the router (`route_service`, see the README's mount
/// table); in front of it they skip its route matching, its boxed route service and the URL
/// parameters it records for every request.
fn app(
    autumn: AutumnService<DemoIdentify>,
    origin: &str,
    protocol: Protocol,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + 'static
{
    let origin: HeaderValue = origin
        .parse()
        .expect("FRONTEND_ORIGIN must be a valid origin");
    let cors = CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            CONTENT_TYPE,
            HeaderName::from_static("x-customer-id"),
            HeaderName::from_static("x-customer-name"),
            HeaderName::from_static("x-customer-email"),
        ])
        .allow_credentials(true);
    // Check before the handler, track after its 2xx answer: through the same client (real or
    // offline Autumn) and the same identify hook as the Autumn routes.
    let meter = MeterLayer::new(autumn.client().clone(), identify as DemoIdentify, MESSAGES);
    let mut routes = Router::new().route("/api/messages", post(send_message).route_layer(meter));
    if protocol == Protocol::Current {
        routes = routes.route("/", get(|| async { Html(DEMO_PAGE) }));
    }
    ServiceBuilder::new()
        .layer(cors)
        .map_response(|r: Response<_>| r.map(Body::new))
        .layer(AutumnLayer::new(autumn))
        .service(routes)
}

/// What `POST /api/messages` takes: `{"text": ...}` (optional).
#[derive(serde::Deserialize)]
struct Message {
    #[serde(default)]
    text: String,
}

/// The billed action: "sends" a message. It only runs when the check allowed it, and one `messages`
/// is tracked after it answered 200. The answer says what is left after this message.
async fn send_message(
    Extension(metered): Extension<Metered>,
    Json(message): Json<Message>,
) -> Json<Value> {
    // The balance the check saw, before this message (absent when Autumn was down and the check
    // failed open).
    let before = metered
        .check
        .as_ref()
        .and_then(|c| c.balance.as_ref())
        .map(|b| b.remaining);
    Json(json!({
        "sent": true,
        "customerId": metered.customer_id,
        "text": message.text,
        "remaining": before.map(|b| b - metered.amount),
    }))
}

/// Prints a start-up line to stdout. A closed stdout (a harness that read only the address, or
/// `| head -1`) is no reason to stop serving, so write errors are ignored (`println!` would panic).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, $($arg)*).and_then(|()| out.flush());
    }};
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `RUST_LOG` as `level` or `target=level,...` (default `info`).
    let filter: Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();

    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("PORT={p:?} is not a port number"))?,
        Err(_) => 3000,
    };
    let origin =
        std::env::var("FRONTEND_ORIGIN").unwrap_or_else(|_| "http://localhost:5173".to_owned());

    let protocol = match std::env::var("AUTUMN_PROTOCOL").as_deref() {
        Ok("legacy") => Protocol::Legacy,
        Ok("current") | Ok("") | Err(_) => Protocol::Current,
        Ok(other) => {
            return Err(format!("AUTUMN_PROTOCOL={other:?}: use `current` or `legacy`").into())
        }
    };
    let secret = std::env::var("AUTUMN_SECRET_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty());
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
    let addr = listener.local_addr()?;

    // With a key: the real Autumn API (or AUTUMN_API_URL). Without one: the embedded offline Autumn,
    // also served on a free port so the checkout URLs it hands out open in a browser.
    let (autumn, offline) = match secret {
        Some(secret) => {
            let autumn = AutumnService::builder()
                .protocol(protocol)
                .identify(identify as DemoIdentify)
                .secret_key(secret)
                .build()?;
            (autumn, None)
        }
        None if protocol == Protocol::Legacy => {
            return Err(
                "AUTUMN_PROTOCOL=legacy calls Autumn's v1.2 API, which the offline Autumn \
                        does not speak: set AUTUMN_SECRET_KEY (and AUTUMN_API_URL for a fake)"
                    .into(),
            )
        }
        None => {
            let catalog = match std::env::var("AUTUMN_OFFLINE_CATALOG") {
                Ok(path) => {
                    let json = std::fs::read_to_string(&path)
                        .map_err(|e| format!("AUTUMN_OFFLINE_CATALOG={path}: {e}"))?;
                    Catalog::from_json(&json)?
                }
                Err(_) => Catalog::default(),
            };
            let plans: Vec<String> = catalog.plans.iter().map(|p| p.id.clone()).collect();
            let offline = OfflineAutumn::with_catalog(catalog);
            // On loopback whatever HOST says: the offline Autumn is a dev tool, not for the network.
            let pages = offline.serve((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
            let autumn = AutumnService::builder()
                .identify(identify as DemoIdentify)
                .offline(offline)
                .build()?;
            (autumn, Some((pages, plans)))
        }
    };

    say!("autumn quickstart listening on http://{addr}");
    if let Some((pages, plans)) = &offline {
        say!(
            "AUTUMN_SECRET_KEY is not set: billing runs on the embedded offline Autumn (in memory, \
             plans {}; API and checkout pages at {}). Try:",
            plans.join(", "),
            pages.url()
        );
        say!(
            "  curl -s -X POST http://{addr}/api/autumn/getOrCreateCustomer -H 'x-customer-id: user_1' \
             -H 'content-type: application/json' -d '{{}}'"
        );
        say!(
            "  curl -s -X POST http://{addr}/api/autumn/attach -H 'x-customer-id: user_1' \
             -H 'content-type: application/json' -d '{{\"planId\":\"pro\"}}'"
        );
        say!(
            "  curl -s -X POST http://{addr}/api/messages -H 'x-customer-id: user_1' \
             -H 'content-type: application/json' -d '{{\"text\":\"hello\"}}'"
        );
    }
    if protocol == Protocol::Current {
        say!(
            "Demo page: open http://{addr}/ in a browser (send messages until the paywall, then upgrade)"
        );
    }
    // Answers go out as soon as they are written: without TCP_NODELAY the kernel may hold a short
    // write back until the previous one is acknowledged (Nagle's algorithm); `axum::serve` leaves it off.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app(autumn, &origin, protocol).into_make_service())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
