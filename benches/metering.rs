//! The metering layer's own cost per request, beyond the Autumn round trips: the transport is in
//! memory and answers instantly, and the same check and track made directly with the client are
//! measured beside it, so `metered_request - client_check_and_track` is the layer's share.
//!
//! ```text
//! cargo bench --bench metering --features offline
//! ```

use std::convert::Infallible;
use std::future::{ready, Ready};

use autumn_tower::metering::MeterLayer;
use autumn_tower::models::{CheckParams, TrackParams};
use autumn_tower::{Client, Identity};
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use http_body_util::Full;
use tower::{service_fn, Layer, ServiceExt};

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

const CHECK: &[u8] = br#"{"allowed":true,"customer_id":"ann","required_balance":1,"balance":{"feature_id":"messages","granted":100,"remaining":50,"usage":50,"unlimited":false,"overage_allowed":false,"max_purchase":null,"next_reset_at":null},"flag":null}"#;
const TRACK: &[u8] = br#"{"customer_id":"ann","value":1,"balance":null}"#;

fn identify(parts: &Parts) -> Ready<Result<Option<Identity>, Infallible>> {
    ready(Ok(parts
        .headers
        .get("x-user-id")
        .and_then(|v| v.to_str().ok())
        .map(Identity::new)))
}

/// A client whose transport answers every call at once with a prepared body.
fn instant_client() -> Client {
    let transport = service_fn(|req: Request<Full<Bytes>>| {
        let body = if req.uri().path().ends_with("balances.check") {
            CHECK
        } else {
            TRACK
        };
        ready(Ok::<_, Infallible>(Response::new(Full::new(
            Bytes::from_static(body),
        ))))
    });
    Client::builder()
        .secret_key("am_sk_bench")
        .transport(transport)
        .build()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn main() {
    divan::main();
}

/// A request through `MeterLayer` around a handler that answers at once: identify, check, the
/// handler, track.
#[divan::bench]
fn metered_request(b: divan::Bencher) {
    let rt = runtime();
    let svc = MeterLayer::new(instant_client(), identify, "messages").layer(service_fn(
        |_req: Request<Full<Bytes>>| {
            ready(Ok::<_, Infallible>(Response::new(Full::new(
                Bytes::from_static(b"ok"),
            ))))
        },
    ));
    b.bench_local(|| {
        rt.block_on(async {
            let req = Request::post("/chat")
                .header("x-user-id", "ann")
                .body(Full::new(Bytes::new()))
                .unwrap();
            svc.clone().oneshot(req).await.unwrap()
        })
    });
}

/// The same check and track made directly with the client: the Autumn round trips' CPU.
#[divan::bench]
fn client_check_and_track(b: divan::Bencher) {
    let rt = runtime();
    let client = instant_client();
    b.bench_local(|| {
        rt.block_on(async {
            let check = client
                .balances()
                .check(&CheckParams::new("ann", "messages"))
                .await
                .unwrap();
            let mut track = TrackParams::new("ann", "messages", 1.0);
            track.idempotency_key = Some(uuid_like());
            (check, client.balances().track(&track).await.unwrap())
        })
    });
}

/// A key of the layer's length, so both sides build one.
fn uuid_like() -> String {
    format!("{:032x}", fastrand::u128(..))
}
