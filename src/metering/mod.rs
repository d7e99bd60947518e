//! Metering your own routes: `check` before a billed action, `track` after it succeeded.
//!
//! [`MeterLayer`] wraps any `tower::Service<http::Request<B>>` (an axum route through
//! `route_layer` or `MethodRouter::layer`, a hyper service, a tonic server) and does what Autumn
//! asks of a billed action:
//!
//! 1. **Identify** the caller with the same [`Identify`](crate::Identify) hook as the
//!    [`AutumnService`](crate::AutumnService). Anonymous: **401** `no_customer_id`, nothing else
//!    runs.
//! 2. **Check** (`balances.check`, with `required_balance` when a request costs other than one
//!    unit, and the entity when [`entity_from`](MeterLayer::entity_from) names one). Denied:
//!    **402** and the inner service never runs:
//!    `{"message", "code": "insufficient_balance", "statusCode": 402, "featureId", "required",
//!    "balance"}` (`balance` is what remains; `code` is `feature_not_included` for a feature
//!    without a balance), plus Autumn's upgrade `preview` with [`with_preview`](MeterLayer::with_preview).
//!    Allowed: the handler finds the check as a [`Metered`] request extension.
//! 3. **Run** the inner service.
//! 4. **Track** after a 2xx answer, exactly once per request, with an idempotency key (a retried
//!    track is never counted twice). The handler may put a [`Usage`] in the response extensions to
//!    track what the request really cost. An error or a non-2xx answer tracks nothing. Boolean
//!    features (a flag, no balance) are only gated: there is no usage to track.
//!
//! With [`reserve`](MeterLayer::reserve) the check holds the units under a lock, so concurrent
//! requests cannot spend the same last units, and `balances.finalize` confirms them after a 2xx
//! answer (or the [`Usage`] instead) or releases them after an error, a non-2xx answer, a panic in
//! the inner service, or a request dropped before it finished. A lock never finalized (the process
//! died) expires after [`lock_ttl`](MeterLayer::lock_ttl).
//!
//! ```
//! use autumn_tower::metering::{Metered, MeterLayer, Usage};
//! use autumn_tower::offline::OfflineAutumn;
//! use autumn_tower::Identity;
//! use axum::{routing::post, Extension, Router};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let client = OfflineAutumn::new().client(); // or autumn_tower::Client::from_env()?
//! let identify = |parts: &http::request::Parts| {
//!     let user = parts.headers.get("x-user-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
//!     async move { Ok::<_, std::convert::Infallible>(user.map(Identity::new)) }
//! };
//! let app: Router = Router::new().route(
//!     "/chat",
//!     post(|Extension(m): Extension<Metered>| async move {
//!         // `m.check` is Autumn's answer; report what the work really cost (optional).
//!         (Extension(Usage(m.amount)), "hello")
//!     })
//!     .layer(MeterLayer::new(client, identify, "messages")),
//! );
//! # let _ = app; }
//! ```
//!
//! # When Autumn is unavailable
//!
//! [`FailurePolicy::FailOpen`] (the default, as in Autumn's TypeScript SDK): when the check cannot
//! connect, times out or gets a 5xx answer ([`Error::is_unavailable`](crate::Error::is_unavailable)),
//! the request proceeds (the [`Metered`] extension says [`CheckSource::FailedOpen`]), its track is
//! skipped, and one `tracing::error!` line names the operation and the status. [`fail_closed`](MeterLayer::fail_closed)
//! answers **503** `autumn_unavailable` instead (also one error line).
//!
//! A 4xx answer to the check (a wrong key, an unknown feature: integration bugs, not outages) is
//! never let through: the client gets **502** `autumn_check_rejected` with Autumn's error code in
//! the message, and the log has Autumn's answer. Autumn's status is not passed on because it
//! describes *your* request to Autumn: a 401 about the secret key would tell your user to sign in.
//!
//! After the handler answered, the track (or finalize) never changes the response, whatever the
//! policy: the work is done, and a 503 then would only invite a retry that does it twice. A failed
//! track is dropped with one `tracing::error!` line (operation and status).
//!
//! The typed client has the same fail-open behaviour on demand:
//! [`check_fail_open`](crate::client::Balances::check_fail_open) and
//! [`track_fail_open`](crate::client::Balances::track_fail_open).
//!
//! # Caching boolean features
//!
//! [`cache_boolean_features`](MeterLayer::cache_boolean_features) remembers allowed checks of
//! boolean features (answers with a `flag` and no `balance`) for a TTL, so such routes skip the
//! call to Autumn. Metered features are never cached: their answer carries a balance, and every
//! request must be counted.

mod admit;
mod cache;
mod future;
mod layer;
mod service;

use std::sync::Arc;

use crate::models::CheckResponse;

pub use self::future::ResponseFuture;
pub use self::layer::{MeterLayer, DEFAULT_LOCK_TTL};
pub use self::service::Meter;

/// What a metered route does when Autumn cannot be reached, times out or answers 5xx.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// Let the request through untracked by the check, with one `tracing::error!` line (Autumn's
    /// TypeScript SDK default).
    #[default]
    FailOpen,
    /// Answer 503 `autumn_unavailable`; the inner service never runs.
    FailClosed,
}

/// Where the [`Metered`] decision came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckSource {
    /// Autumn answered the check.
    Autumn,
    /// A cached answer for a boolean feature (see [`MeterLayer::cache_boolean_features`]).
    Cache,
    /// Autumn was unavailable and the request was let through ([`FailurePolicy::FailOpen`]).
    FailedOpen,
}

/// The request extension a metered handler finds: who is billed, for what, and Autumn's answer.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Metered {
    /// The customer the identify hook named.
    pub customer_id: String,
    /// The feature checked.
    pub feature_id: String,
    /// The entity whose balance pays, if any.
    pub entity_id: Option<String>,
    /// The units the request was checked for (and is tracked for, unless the handler sets a
    /// [`Usage`]).
    pub amount: f64,
    /// Where the decision came from.
    pub source: CheckSource,
    /// Autumn's answer (`None` when the request failed open).
    pub check: Option<Arc<CheckResponse>>,
    /// The lock holding the units, when the layer [reserves](MeterLayer::reserve) them.
    pub lock_id: Option<String>,
}

/// A response extension with the units the request really used: tracked (or confirmed) instead
/// of the configured amount. `Usage(0.0)` tracks nothing (and releases a reservation's units by
/// confirming zero). A negative or non-finite value is ignored with a warning.
///
/// In axum: `(Extension(Usage(3.0)), body)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Usage(pub f64);
