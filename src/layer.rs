//! [`AutumnLayer`]: put the Autumn routes in front of any existing service.
//!
//! Requests whose path lies under the prefix (default `/api/autumn`) go to the [`AutumnService`]; every other
//! request reaches the inner service untouched (body, extensions and upgrades included), and its future is
//! polled directly, with no boxing.
//!
//! ```no_run
//! use autumn_tower::{AutumnLayer, AutumnService, Identity};
//! use axum::{routing::get, Router};
//!
//! # fn demo() -> Result<(), autumn_tower::Error> {
//! let autumn = AutumnService::builder()
//!     .identify(|_parts: &http::request::Parts| async {
//!         Ok::<_, std::convert::Infallible>(Some(Identity::new("user_123")))
//!     })
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(AutumnLayer::new(autumn));
//! # let _ = app; Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use http_body_util::Either;
use tower::{Layer, Service};

use crate::body::ResponseBody;
use crate::future::ResponseFuture as ServiceFuture;
use crate::identify::Identify;
use crate::routes::is_under;
use crate::service::AutumnService;
use crate::transport::{BoxError, HttpTransport, Transport};

/// A [`Layer`] that serves the Autumn routes under the service's prefix and passes everything else on.
pub struct AutumnLayer<I, T = Transport> {
    autumn: AutumnService<I, T>,
}

impl<I, T> AutumnLayer<I, T> {
    /// Wraps services with `autumn`, which answers the requests under its prefix.
    pub fn new(autumn: AutumnService<I, T>) -> Self {
        AutumnLayer { autumn }
    }
}

impl<I, T> Clone for AutumnLayer<I, T> {
    fn clone(&self) -> Self {
        AutumnLayer {
            autumn: self.autumn.clone(),
        }
    }
}

impl<I, T> fmt::Debug for AutumnLayer<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutumnLayer")
            .field("autumn", &self.autumn)
            .finish()
    }
}

impl<S, I, T> Layer<S> for AutumnLayer<I, T> {
    type Service = Autumn<S, I, T>;

    fn layer(&self, inner: S) -> Self::Service {
        Autumn {
            inner,
            autumn: self.autumn.clone(),
        }
    }
}

/// The service [`AutumnLayer`] produces.
pub struct Autumn<S, I, T = Transport> {
    inner: S,
    autumn: AutumnService<I, T>,
}

impl<S: Clone, I, T> Clone for Autumn<S, I, T> {
    fn clone(&self) -> Self {
        Autumn {
            inner: self.inner.clone(),
            autumn: self.autumn.clone(),
        }
    }
}

impl<S: fmt::Debug, I, T> fmt::Debug for Autumn<S, I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Autumn")
            .field("inner", &self.inner)
            .field("autumn", &self.autumn)
            .finish()
    }
}

impl<S, I, T> Autumn<S, I, T> {
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

impl<S, I, T, B, ResBody> Service<Request<B>> for Autumn<S, I, T>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    I: Identify,
    T: HttpTransport,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    ResBody: http_body::Body<Data = bytes::Bytes>,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Either<ResponseBody, ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        if is_under(req.uri().path(), self.autumn.shared_prefix_segments()) {
            ResponseFuture::autumn(self.autumn.call(req))
        } else {
            ResponseFuture::inner(self.inner.call(req))
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Autumn`]: the inner service's future, unboxed, or the Autumn route's.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] fut: F },
        Autumn { #[pin] fut: ServiceFuture },
    }
}

impl<F> ResponseFuture<F> {
    fn inner(fut: F) -> Self {
        ResponseFuture {
            kind: Kind::Inner { fut },
        }
    }

    fn autumn(fut: ServiceFuture) -> Self {
        ResponseFuture {
            kind: Kind::Autumn { fut },
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Inner { .. } => f.write_str("ResponseFuture::Inner"),
            Kind::Autumn { .. } => f.write_str("ResponseFuture::Autumn"),
        }
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<Either<ResponseBody, ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { fut } => fut.poll(cx).map_ok(|r| r.map(Either::Right)),
            KindProj::Autumn { fut } => match fut.poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(r)) => Poll::Ready(Ok(r.map(Either::Left))),
                Poll::Ready(Err(never)) => match never {},
            },
        }
    }
}
