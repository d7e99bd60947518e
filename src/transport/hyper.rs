//! The default transport: hyper-util's pooled client.

use std::fmt;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client as PoolClient, ResponseFuture};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tower::Service;

use super::{BoxError, TransportRequest};
use crate::error::Error;

#[cfg(feature = "rustls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
type Connector = hyper_tls::HttpsConnector<HttpConnector>;
#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
type Connector = HttpConnector;

/// Settings of the default [`HyperTransport`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Deadline for opening a TCP connection (default 5 s). The TLS handshake is covered by the client's
    /// per-attempt request timeout.
    pub connect_timeout: Duration,
    /// How long an idle pooled connection is kept (default 20 s, below common load-balancer idle limits).
    pub pool_idle_timeout: Duration,
    /// Most idle connections kept per host (default 256). Keep it above the number of calls your
    /// server has in flight at once: below it, the pool closes connections under load and opens new
    /// ones (a TCP and TLS handshake each) moments later.
    pub pool_max_idle_per_host: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            pool_idle_timeout: Duration::from_secs(20),
            pool_max_idle_per_host: 256,
        }
    }
}

/// The default transport: hyper-util's pooled client with keep-alive, HTTP/1.1 and HTTP/2 (ALPN) over TLS,
/// and plain HTTP (for loopback and tests).
///
/// Cloning shares the pool. The pool's connections close when the last clone is dropped: drop the
/// [`Client`](crate::Client) (or the [`AutumnService`](crate::AutumnService)) to release them.
#[derive(Clone)]
pub struct HyperTransport {
    client: PoolClient<Connector, Full<Bytes>>,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport").finish_non_exhaustive()
    }
}

impl HyperTransport {
    /// Builds the pooled client. Needs no runtime until the first request.
    pub fn new(config: &HttpConfig) -> Result<Self, Error> {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(config.connect_timeout));
        http.set_nodelay(true);
        // Without a TLS backend the connector refuses `https` URIs instead of sending them in clear text.
        http.enforce_http(!super::HAS_TLS);
        let connector = make_connector(http)?;
        let client = PoolClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .build(connector);
        Ok(HyperTransport { client })
    }
}

#[cfg(feature = "rustls")]
fn make_connector(http: HttpConnector) -> Result<Connector, Error> {
    // Ask for ring explicitly: another crate in the graph enabling aws-lc-rs must not make the process-wide
    // provider ambiguous.
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(|e| Error::config(format!("TLS could not be initialised: {e}")))?;
    Ok(builder
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http))
}

#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
fn make_connector(http: HttpConnector) -> Result<Connector, Error> {
    let tls = hyper_tls::native_tls::TlsConnector::builder()
        .request_alpns(&["h2", "http/1.1"])
        .build()
        .map_err(|e| Error::config(format!("native TLS could not be initialised: {e}")))?;
    Ok(hyper_tls::HttpsConnector::from((http, tls.into())))
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
fn make_connector(http: HttpConnector) -> Result<Connector, Error> {
    Ok(http)
}

impl HyperTransport {
    /// Sends one request from `&self` (the pooled client needs no `&mut`, so no clone of it either).
    pub(crate) fn request(&self, req: TransportRequest) -> HyperResponseFuture {
        HyperResponseFuture {
            inner: self.client.request(req),
        }
    }
}

impl Service<TransportRequest> for HyperTransport {
    type Response = http::Response<hyper::body::Incoming>;
    type Error = BoxError;
    type Future = HyperResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: TransportRequest) -> Self::Future {
        self.request(req)
    }
}

pin_project_lite::pin_project! {
    /// The future of one [`HyperTransport`] request.
    pub struct HyperResponseFuture {
        #[pin]
        inner: ResponseFuture,
    }
}

impl fmt::Debug for HyperResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperResponseFuture")
            .finish_non_exhaustive()
    }
}

impl std::future::Future for HyperResponseFuture {
    type Output = Result<http::Response<hyper::body::Incoming>, BoxError>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll(cx)
            .map_err(|e| Box::new(e) as BoxError)
    }
}
