//! [`Meter`]: the service [`MeterLayer`](super::MeterLayer) wraps a route with.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body_util::Either;
use tower::Service;

use super::admit::Admit;
use super::future::ResponseFuture;
use crate::body::ResponseBody;

/// Meters every request to the inner service: see the [module docs](super). Made by
/// [`MeterLayer`](super::MeterLayer).
pub struct Meter<S> {
    inner: S,
    shared: Arc<dyn Admit>,
}

impl<S> Meter<S> {
    pub(crate) fn new(inner: S, shared: Arc<dyn Admit>) -> Self {
        Meter { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone> Clone for Meter<S> {
    fn clone(&self) -> Self {
        Meter {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for Meter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Meter")
            .field("inner", &self.inner)
            .field("reserve", &self.shared.reserves())
            .finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Service<Request<B>> for Meter<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone,
{
    type Response = Response<Either<ResponseBody, ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The inner service is called only after the check: take the one that was polled ready and
        // leave a clone (which will be polled ready before its own call), as tower's docs advise.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let lock_id = self
            .shared
            .reserves()
            .then(|| format!("meter_{}", uuid::Uuid::new_v4().simple()));
        let (parts, body) = req.into_parts();
        let admit = self.shared.clone().admit(parts, lock_id.clone());
        ResponseFuture::new(admit, inner, body, self.shared.clone(), lock_id)
    }
}
