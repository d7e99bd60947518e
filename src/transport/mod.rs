//! How requests reach Autumn: any `tower::Service<http::Request<Full<Bytes>>>`.
//!
//! The [`Client`](crate::Client) and the [`AutumnService`](crate::AutumnService) send every upstream call
//! through an [`HttpTransport`]. Anything that is a `tower::Service` taking an
//! `http::Request<Full<Bytes>>` and answering an `http::Response` with a body is one, so you can:
//!
//! - use the default [`HyperTransport`] (hyper-util's pooled client: keep-alive, HTTP/1.1 and HTTP/2 over
//!   TLS, plain HTTP for loopback),
//! - wrap it in tower layers (rate limits, concurrency limits, tracing, metrics),
//! - plug in a test double or an in-memory Autumn.
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http_body_util::Full;
//!
//! // A test double: answers every call with the same JSON.
//! let canned = tower::service_fn(|_req: http::Request<Full<Bytes>>| async {
//!     Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(br#"{"allowed":true}"#))))
//! });
//! let client = autumn_tower::Client::builder()
//!     .secret_key("am_sk_test_123")
//!     .transport(canned)
//!     .build()
//!     .unwrap();
//! # drop(client);
//! ```
//!
//! A transport only moves bytes: the client adds the URL, the headers, the per-attempt deadline, the
//! response-size limit and the retry policy around it.

pub(crate) mod exchange;
mod hyper;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use tower::util::Oneshot;
use tower::{Service, ServiceExt};

pub use self::hyper::{HttpConfig, HyperResponseFuture, HyperTransport};

/// Whether this build has a TLS backend (the `rustls` or `native-tls` feature) for `https` URLs.
pub(crate) const HAS_TLS: bool = cfg!(any(feature = "rustls", feature = "native-tls"));

use self::exchange::RawResponse;
pub use crate::error::BoxError;
use crate::error::Error;

/// The request a transport receives: method, absolute URI, headers, and the complete JSON body.
pub type TransportRequest = http::Request<Full<Bytes>>;

/// The response body the boxed [`Transport`] hands back.
pub type TransportBody = UnsyncBoxBody<Bytes, BoxError>;

/// Anything that can carry the client's requests to Autumn.
///
/// Implemented for every `tower::Service<TransportRequest>` that is `Clone + Send + Sync + 'static`
/// and answers an `http::Response<B>` whose body yields [`Bytes`]. You never implement it by hand.
pub trait HttpTransport: Clone + Send + Sync + 'static {
    /// The response body type.
    type Body: Body<Data = Bytes, Error = BoxError> + Send + 'static;
    /// The future of one request.
    type Future: Future<Output = Result<http::Response<Self::Body>, BoxError>> + Send + 'static;

    /// Sends one request (on a clone of `self`, after it is ready, like `ServiceExt::oneshot`).
    fn send(&self, request: TransportRequest) -> Self::Future;
}

impl<S, B> HttpTransport for S
where
    S: Service<TransportRequest, Response = http::Response<B>> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Body = MapBodyErr<B>;
    type Future = SendFuture<S>;

    fn send(&self, request: TransportRequest) -> Self::Future {
        SendFuture {
            inner: self.clone().oneshot(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`HttpTransport::send`] for a tower service.
    pub struct SendFuture<S: Service<TransportRequest>> {
        #[pin]
        inner: Oneshot<S, TransportRequest>,
    }
}

impl<S: Service<TransportRequest>> fmt::Debug for SendFuture<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture").finish_non_exhaustive()
    }
}

impl<S, B> Future for SendFuture<S>
where
    S: Service<TransportRequest, Response = http::Response<B>>,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Output = Result<http::Response<MapBodyErr<B>>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().inner.poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(resp)) => Poll::Ready(Ok(resp.map(|inner| MapBodyErr { inner }))),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
        }
    }
}

pin_project_lite::pin_project! {
    /// A response body whose error is converted to [`BoxError`].
    #[derive(Debug)]
    pub struct MapBodyErr<B> {
        #[pin]
        inner: B,
    }
}

impl<B> Body for MapBodyErr<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        match self.project().inner.poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Ok(f))) => Poll::Ready(Some(Ok(f))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A type-erased transport: any [`HttpTransport`], boxed once.
///
/// This is the default transport type parameter of [`Client`](crate::Client) and
/// [`AutumnService`](crate::AutumnService), so that swapping transports does not change their types.
/// Cloning it clones an `Arc`; each request boxes its future and its response body once.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<dyn ErasedTransport>,
}

type BoxedSend =
    Pin<Box<dyn Future<Output = Result<http::Response<TransportBody>, BoxError>> + Send>>;

/// The client's exchange ([`exchange::exchange`]): the answer's status and whole body, and its
/// `Retry-After`.
pub(crate) type BoxedExchange =
    Pin<Box<dyn Future<Output = Result<(RawResponse, Option<Duration>), Error>> + Send>>;

/// [`HttpTransport`] as an object-safe trait: sends from `&self`, so no clone of a boxed service is
/// needed per request.
trait ErasedTransport: Send + Sync + 'static {
    fn send_boxed(&self, request: TransportRequest) -> BoxedSend;
    /// Sends and reads the whole answer (at most `limit` bytes) in one boxed future: the body is
    /// read as the transport's own type, not boxed.
    fn exchange_boxed(&self, request: TransportRequest, limit: usize) -> BoxedExchange;
}

impl<T: HttpTransport> ErasedTransport for T {
    fn send_boxed(&self, request: TransportRequest) -> BoxedSend {
        let fut = HttpTransport::send(self, request);
        Box::pin(async move {
            let resp = fut.await?;
            Ok(resp.map(|b| b.boxed_unsync()))
        })
    }

    fn exchange_boxed(&self, request: TransportRequest, limit: usize) -> BoxedExchange {
        // The default transport sends from `&self`: no clone of its pooled client per request (the
        // generic `send` clones the service, as `ServiceExt::oneshot`, to call it with `&mut`).
        let erased: &dyn std::any::Any = self;
        if let Some(hyper) = erased.downcast_ref::<HyperTransport>() {
            let sent = hyper.request(request);
            return Box::pin(self::exchange::exchange(
                async move { Ok(sent.await?.map(|inner| MapBodyErr { inner })) },
                limit,
            ));
        }
        Box::pin(self::exchange::exchange(
            HttpTransport::send(self, request),
            limit,
        ))
    }
}

impl Transport {
    /// Boxes any transport.
    pub fn new<T: HttpTransport>(transport: T) -> Self {
        Transport {
            inner: Arc::new(transport),
        }
    }

    /// The client's exchange through the boxed transport: one box for the whole of it.
    pub(crate) fn exchange(&self, request: TransportRequest, limit: usize) -> BoxedExchange {
        self.inner.exchange_boxed(request, limit)
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport").finish_non_exhaustive()
    }
}

impl Service<TransportRequest> for Transport {
    type Response = http::Response<TransportBody>;
    type Error = BoxError;
    type Future = BoxedSend;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // `HttpTransport::send` readies its own clone of the service before calling it.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: TransportRequest) -> Self::Future {
        self.inner.send_boxed(req)
    }
}

/// Marks a transport failure that happened before the request was sent (the connection could not be
/// opened). Test doubles and custom transports can return it so the client knows a retry cannot
/// duplicate anything; hyper-util's connect errors are recognised without it.
#[derive(Debug)]
pub struct ConnectError {
    source: BoxError,
}

impl ConnectError {
    /// Wraps the cause of a failed connection attempt.
    pub fn new(source: impl Into<BoxError>) -> Self {
        ConnectError {
            source: source.into(),
        }
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connection failed: {}", self.source)
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// True when `err` proves the request was never sent: a connect failure.
pub(crate) fn is_connect_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.is::<ConnectError>() {
            return true;
        }
        if let Some(h) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            if h.is_connect() {
                return true;
            }
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return true;
            }
        }
        cur = e.source();
    }
    false
}
