//! The authorize hook: your app says which routes a caller may use.
//!
//! [`Identify`](crate::Identify) says *who* is calling; with organisation billing many people act for one
//! Autumn customer, and not all of them should change its plan. The authorize hook runs after identify and
//! before the body is read, with the route's name, the identity and the request's [`Parts`]. Answering
//! `false` stops the request with 403 `forbidden` (nothing is sent to Autumn).
//!
//! ```
//! use autumn_tower::{AutumnService, Identity};
//! use autumn_tower::authorize::Access;
//! use http::request::Parts;
//!
//! #[derive(Clone)]
//! struct Role { admin: bool }
//!
//! # fn demo() -> Result<(), autumn_tower::Error> {
//! let service = AutumnService::builder()
//!     .secret_key("am_sk_test_123")
//!     .identify(|parts: &Parts| {
//!         let org = parts.headers.get("x-org").and_then(|v| v.to_str().ok()).map(str::to_owned);
//!         async move { Ok::<_, std::convert::Infallible>(org.map(Identity::new)) }
//!     })
//!     // Only admins may change the plan; everyone in the org may read it.
//!     .authorize(|access: &Access<'_>| {
//!         let admin = access.parts.extensions.get::<Role>().is_some_and(|r| r.admin);
//!         let changes_plan = matches!(
//!             access.route,
//!             "attach" | "multiAttach" | "updateSubscription" | "setupPayment"
//!         );
//!         async move { admin || !changes_plan }
//!     })
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! Route names are the browser's: the rpc names of the current protocol (`attach`, `updateSubscription`,
//! ...) or the route names of the legacy one (`attach`, `cancel`, `entities/:entityId`, ...).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::request::Parts;
use http::Method;

use crate::identify::Identity;

/// What the authorize hook sees of one request.
#[derive(Debug)]
#[non_exhaustive]
pub struct Access<'a> {
    /// The browser route's name (`attach`, `updateSubscription`, `entities/:entityId`, ...).
    pub route: &'a str,
    /// The request's method (routes of the legacy protocol share a path across methods).
    pub method: &'a Method,
    /// Who identify said is calling; `None` on routes anonymous callers may use.
    pub identity: Option<&'a Identity>,
    /// The request's method, URI, headers and extensions.
    pub parts: &'a Parts,
}

type BoxBool = Pin<Box<dyn Future<Output = bool> + Send>>;

/// A type-erased authorize hook (set with
/// [`AutumnServiceBuilder::authorize`](crate::AutumnServiceBuilder::authorize)).
#[derive(Clone)]
pub(crate) struct Authorize(Arc<dyn Fn(&Access<'_>) -> BoxBool + Send + Sync>);

impl fmt::Debug for Authorize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Authorize(..)")
    }
}

impl Authorize {
    pub(crate) fn new<F, Fut>(f: F) -> Self
    where
        F: Fn(&Access<'_>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        Authorize(Arc::new(move |access| Box::pin(f(access))))
    }

    pub(crate) async fn allows(&self, access: &Access<'_>) -> bool {
        (self.0)(access).await
    }
}
