//! What the metering service and its future need from the layer's configuration, with the identify
//! hook's and the transport's types erased: the [`Admit`] calls and the values passed between them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::request::Parts;
use http::Response;

use crate::body::ResponseBody;

pub(crate) type BoxFuture<O> = Pin<Box<dyn Future<Output = O> + Send + 'static>>;

/// What the check decided.
pub(crate) enum Verdict {
    /// Go on: the handler runs; `Ticket` says what to do after.
    Proceed(Ticket),
    /// Answer this instead (401, 402, 500, 502, 503); the handler never runs.
    Reject(Response<ResponseBody>),
}

/// What a request that passed the check owes afterwards.
pub(crate) struct Ticket {
    pub(super) customer_id: String,
    pub(super) entity_id: Option<String>,
    pub(super) feature_id: String,
    pub(super) amount: f64,
    /// Set when the check holds units under this lock.
    pub(crate) lock_id: Option<String>,
    /// False for boolean features: there is no usage to track.
    pub(super) billable: bool,
}

impl Ticket {
    /// Whether anything must be sent after the handler answered with `success`.
    pub(crate) fn has_work(&self, success: bool) -> bool {
        self.lock_id.is_some() || (success && self.billable)
    }
}

/// How the request ended, for the settling call.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome {
    /// 2xx: track (or confirm) this many units.
    Succeeded(Option<f64>),
    /// An error, a non-2xx answer, a panic, or a drop: release what is held.
    Failed,
}

/// The metering calls, with the identify hook's and the transport's types erased so the
/// service and its future name only the inner service.
pub(crate) trait Admit: Send + Sync + 'static {
    /// Who is calling and may they: identify, then check (or the cache).
    fn admit(self: Arc<Self>, parts: Parts, lock_id: Option<String>)
        -> BoxFuture<(Parts, Verdict)>;
    /// Track, confirm or release after the handler.
    fn settle(&self, ticket: Ticket, outcome: Outcome) -> BoxFuture<()>;
    /// Release a lock whose check may or may not have been answered (the request was dropped).
    fn release(&self, lock_id: String) -> BoxFuture<()>;
    /// Whether requests reserve (and so need a lock id).
    fn reserves(&self) -> bool;
}
