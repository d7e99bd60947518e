//! [`AutumnService`]: the backend routes autumn-js calls, as a `tower::Service`.
//!
//! ```no_run
//! use autumn_tower::{AutumnService, Identity};
//! use http::request::Parts;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let autumn = AutumnService::builder()
//!     .secret_key(std::env::var("AUTUMN_SECRET_KEY")?)
//!     .identify(|parts: &Parts| {
//!         // A real app reads its session here.
//!         let user = parts.headers.get("x-user-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
//!         async move { Ok::<_, std::convert::Infallible>(user.map(Identity::new)) }
//!     })
//!     .build()?;
//!
//! let app = axum::Router::new().nest_service("/api/autumn", autumn);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! The service never returns `Err`: every failure is a JSON response `{"message", "code", "statusCode"}`
//! (see the README's error table). It is cheap to clone (an `Arc` inside), `Send + Sync`, and always ready.
//! Requests may arrive with the full path (`/api/autumn/attach`) or with the prefix already stripped by a
//! `nest_service` (`/attach`); both work.

// Early answers travel as `Err(Response)` through these helpers; they are cold paths, so the size of
// `Response` in the error variant costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body_util::Limited;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::authorize::{Access, Authorize};
use crate::body::ResponseBody;
use crate::client::{Client, ClientBuilder, RawResponse};
use crate::error::Error;
use crate::fields::{Edit, Lists};
use crate::future::ResponseFuture;
use crate::identify::{Identify, Identity};
use crate::routes::{self, current, error, legacy, upstream_failure, Segments, Upstream};
use crate::transport::{BoxError, HttpTransport, Transport};

/// The default path prefix, where autumn-js looks for its backend.
pub const DEFAULT_PREFIX: &str = "/api/autumn";
/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Bodies up to this size are parsed on the request's task; larger ones on tokio's blocking pool. A
/// parse is linear, but a 1 MiB body of 95,000 keys still takes tens of milliseconds, which must not
/// hold a runtime worker (and every request queued behind it); a browser's usual body is far smaller,
/// and stays clear of the thread hop.
const INLINE_PARSE_LIMIT: usize = 16 * 1024;

/// Which browser protocol the service speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// autumn-js >= 1.0: `POST <prefix>/<rpcName>`.
    #[default]
    Current,
    /// autumn-js 0.x (up to 0.1.85) and the Python SDK's `AutumnASGI` routes: `POST <prefix>/attach`,
    /// `GET <prefix>/entities/:entityId`, ..., calling Autumn's v1.2 API.
    Legacy,
}

/// Serves the autumn-js backend routes. Build one with [`AutumnService::builder`].
pub struct AutumnService<I, T = Transport> {
    shared: Arc<Shared<I, T>>,
}

impl<I, T> Clone for AutumnService<I, T> {
    fn clone(&self) -> Self {
        AutumnService {
            shared: self.shared.clone(),
        }
    }
}

impl<I, T> AutumnService<I, T> {
    pub(crate) fn shared_prefix_segments(&self) -> &[String] {
        &self.shared.prefix_segments
    }
}

impl<I, T> fmt::Debug for AutumnService<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutumnService")
            .field("prefix", &self.shared.prefix)
            .field("protocol", &self.shared.protocol)
            .field("body_limit", &self.shared.body_limit)
            .field("client", &self.shared.client)
            .finish_non_exhaustive()
    }
}

struct Shared<I, T> {
    client: Client<T>,
    identify: I,
    authorize: Option<Authorize>,
    /// The browser-settable body fields of every route of `protocol`.
    fields: Lists,
    prefix: String,
    prefix_segments: Vec<String>,
    body_limit: usize,
    body_timeout: Duration,
    protocol: Protocol,
}

/// Where the service's [`Client`] comes from: the builder's own client settings ([`ClientBuilder`]), or a
/// ready-made client ([`AutumnServiceBuilder::client`]). Sealed: implemented for those two only.
pub trait ClientSource: sealed::Sealed {
    /// The transport of the client it gives.
    type Transport: HttpTransport;
    /// Makes (or hands over) the client.
    fn into_client(self) -> Result<Client<Self::Transport>, Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::client::ClientBuilder {}
    impl<T> Sealed for crate::client::Client<T> {}
}

impl ClientSource for ClientBuilder {
    type Transport = Transport;
    fn into_client(self) -> Result<Client<Transport>, Error> {
        self.build()
    }
}

impl<T: HttpTransport> ClientSource for Client<T> {
    type Transport = T;
    fn into_client(self) -> Result<Client<T>, Error> {
        Ok(self)
    }
}

/// Configures an [`AutumnService`]. `C` is where its client comes from: the builder's own settings
/// (`secret_key`, `base_url`, `transport`, ...) until [`client`](Self::client) hands it a ready one.
pub struct AutumnServiceBuilder<I = (), C = ClientBuilder> {
    client: C,
    identify: I,
    authorize: Option<Authorize>,
    field_edits: Vec<Edit>,
    prefix: String,
    body_limit: usize,
    body_timeout: Duration,
    protocol: Protocol,
}

impl<I, C: fmt::Debug> fmt::Debug for AutumnServiceBuilder<I, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutumnServiceBuilder")
            .field("client", &self.client)
            .field("prefix", &self.prefix)
            .field("body_limit", &self.body_limit)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl AutumnService<()> {
    /// Starts configuring a service.
    pub fn builder() -> AutumnServiceBuilder {
        AutumnServiceBuilder {
            client: Client::builder(),
            identify: (),
            authorize: None,
            field_edits: Vec::new(),
            prefix: DEFAULT_PREFIX.to_owned(),
            body_limit: DEFAULT_BODY_LIMIT,
            body_timeout: Duration::from_secs(10),
            protocol: Protocol::Current,
        }
    }
}

impl<I> AutumnServiceBuilder<I, ClientBuilder> {
    /// The secret key (`am_sk_...`). Without one, `build` reads `AUTUMN_SECRET_KEY`.
    pub fn secret_key(mut self, key: impl Into<String>) -> Self {
        self.client = self.client.secret_key(key);
        self
    }

    /// The Autumn API base URL (default `AUTUMN_API_URL`, else `https://api.useautumn.com`; a trailing
    /// `/v1` is tolerated).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.client = self.client.base_url(url);
        self
    }

    /// Sends upstream calls through `transport` (e.g. an in-memory Autumn for tests, or a
    /// layered hyper client) instead of the default one.
    pub fn transport<U: HttpTransport>(mut self, transport: U) -> Self {
        self.client = self.client.transport(transport);
        self
    }

    /// Bills against an embedded [`OfflineAutumn`](crate::offline::OfflineAutumn) instead of the
    /// Autumn API: no Autumn account and no network needed (the offline Autumn's own
    /// [key](crate::offline::OfflineAutumn::secret_key) is set, the only one it answers).
    #[cfg(feature = "offline")]
    pub fn offline(self, autumn: crate::offline::OfflineAutumn) -> Self {
        let key = autumn.secret_key().to_owned();
        self.transport(autumn).secret_key(key)
    }

    /// Adjusts the client settings (timeouts, retries, pool) before it is built.
    pub fn configure_client(mut self, f: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Self {
        self.client = f(self.client);
        self
    }
}

impl<I, C> AutumnServiceBuilder<I, C> {
    /// Uses a ready-made client (its transport type becomes the service's) instead of the builder's
    /// client settings, which are dropped.
    pub fn client<U: HttpTransport>(self, client: Client<U>) -> AutumnServiceBuilder<I, Client<U>> {
        AutumnServiceBuilder {
            client,
            identify: self.identify,
            authorize: self.authorize,
            field_edits: self.field_edits,
            prefix: self.prefix,
            body_limit: self.body_limit,
            body_timeout: self.body_timeout,
            protocol: self.protocol,
        }
    }

    /// The hook that says who the caller is. See [`Identify`].
    pub fn identify<J: Identify>(self, identify: J) -> AutumnServiceBuilder<J, C> {
        AutumnServiceBuilder {
            client: self.client,
            identify,
            authorize: self.authorize,
            field_edits: self.field_edits,
            prefix: self.prefix,
            body_limit: self.body_limit,
            body_timeout: self.body_timeout,
            protocol: self.protocol,
        }
    }

    /// The path prefix (default `/api/autumn`). Requests may carry it or have it stripped already.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The largest request body accepted (default 1 MiB); larger ones get 413 without being read whole.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How long reading a request body may take (default 10 s); a slower body gets 408.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Which browser protocol to speak (default [`Protocol::Current`]).
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// The hook that decides, per route, identity and request, whether a call is allowed (403 otherwise).
    /// See [`authorize`](crate::authorize). Without one, every identified caller may use every route.
    pub fn authorize<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(&Access<'_>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = bool> + Send + 'static,
    {
        self.authorize = Some(Authorize::new(hook));
        self
    }

    /// Lets the browser set more body fields on `route` (its rpc name, or its legacy route name), as paths
    /// in Autumn's snake_case spelling: `"discounts[].promotion_code"`. See [`fields`](crate::fields) for
    /// the path syntax and the README ("What the browser may set") for the defaults. Only widen a list
    /// with fields a customer may choose for themselves: the browser is not trusted.
    pub fn allow_fields<S: Into<String>>(
        mut self,
        route: &str,
        paths: impl IntoIterator<Item = S>,
    ) -> Self {
        self.field_edits.push(Edit::Allow(
            route.to_owned(),
            paths.into_iter().map(Into::into).collect(),
        ));
        self
    }

    /// Stops the browser setting these body fields (and everything under them) on `route`. The app can
    /// still set them server-side with the typed [`Client`].
    pub fn deny_fields<S: Into<String>>(
        mut self,
        route: &str,
        paths: impl IntoIterator<Item = S>,
    ) -> Self {
        self.field_edits.push(Edit::Deny(
            route.to_owned(),
            paths.into_iter().map(Into::into).collect(),
        ));
        self
    }
}

impl<I: Identify, C: ClientSource> AutumnServiceBuilder<I, C> {
    /// Builds the service; fails on a missing or malformed secret key or base URL, or a field edit
    /// naming a route the protocol does not have.
    pub fn build(self) -> Result<AutumnService<I, C::Transport>, Error> {
        let fields = Lists::new(crate::fields::defaults(self.protocol), &self.field_edits)
            .map_err(Error::config)?;
        let client = self.client.into_client()?;
        let mut service = AutumnService::from_parts(
            client,
            self.identify,
            self.prefix,
            self.body_limit,
            self.body_timeout,
            self.protocol,
        );
        let shared = Arc::get_mut(&mut service.shared).expect("the service was just built");
        shared.fields = fields;
        shared.authorize = self.authorize;
        Ok(service)
    }
}

impl<I: Identify, T: HttpTransport> AutumnService<I, T> {
    /// A service around a ready-made client, with the default prefix, limits and protocol.
    pub fn new(client: Client<T>, identify: I) -> Self {
        AutumnService::from_parts(
            client,
            identify,
            DEFAULT_PREFIX.to_owned(),
            DEFAULT_BODY_LIMIT,
            Duration::from_secs(10),
            Protocol::Current,
        )
    }

    fn from_parts(
        client: Client<T>,
        identify: I,
        prefix: String,
        body_limit: usize,
        body_timeout: Duration,
        protocol: Protocol,
    ) -> Self {
        let prefix_segments = routes::prefix_segments(&prefix);
        AutumnService {
            shared: Arc::new(Shared {
                client,
                identify,
                authorize: None,
                fields: Lists::defaults(crate::fields::defaults(protocol)),
                prefix,
                prefix_segments,
                body_limit,
                body_timeout,
                protocol,
            }),
        }
    }

    /// The client the service calls Autumn with (handy for server-side `check`/`track`).
    pub fn client(&self) -> &Client<T> {
        &self.shared.client
    }

    /// The configured path prefix.
    pub fn prefix(&self) -> &str {
        &self.shared.prefix
    }
}

impl<I, T, B> tower::Service<Request<B>> for AutumnService<I, T>
where
    I: Identify,
    T: HttpTransport,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> ResponseFuture {
        let shared = self.shared.clone();
        // DEBUG, as tower-http's `TraceLayer`: at INFO the span and its five records cost about 19k
        // instructions a request (README, "Observability").
        let span = tracing::debug_span!(
            "autumn",
            route = tracing::field::Empty,
            customer_id = tracing::field::Empty,
            status = tracing::field::Empty,
            upstream_status = tracing::field::Empty,
            upstream_ms = tracing::field::Empty,
        );
        ResponseFuture::new(
            async move {
                let resp = shared.dispatch(req).await;
                tracing::Span::current().record("status", resp.status().as_u16());
                resp
            }
            .instrument(span),
        )
    }
}

/// The route a request's path and method name.
enum Found {
    Current(&'static current::Route),
    Legacy(&'static legacy::Route, Option<Vec<u8>>),
}

/// Why a request body could not be used.
#[derive(Debug)]
enum BodyError {
    /// Too large, too slow, or unreadable: the answer is not about the JSON.
    Transport(Response<ResponseBody>),
    /// Not a JSON object.
    Invalid(Response<ResponseBody>),
}

impl BodyError {
    fn into_response(self) -> Response<ResponseBody> {
        match self {
            BodyError::Transport(r) | BodyError::Invalid(r) => r,
        }
    }
}

impl<I: Identify, T: HttpTransport> Shared<I, T> {
    async fn dispatch<B>(&self, req: Request<B>) -> Response<ResponseBody>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        // The route is found while the path is borrowed; what a route keeps of it (the legacy
        // `:entityId`) is decoded into its own buffer, so the request can move on.
        let found = {
            let Some(segments) = Segments::parse(req.uri().path(), &self.prefix_segments) else {
                return routes::not_found();
            };
            match self.protocol {
                Protocol::Current => current::find(segments.as_slice()).map(|route| {
                    tracing::Span::current().record("route", route.name);
                    Found::Current(route)
                }),
                Protocol::Legacy => match legacy::find(segments.as_slice(), req.method()) {
                    legacy::Found::Route(route, param) => {
                        tracing::Span::current().record("route", route.name);
                        if let Some(resp) = route.answer_at_once() {
                            return resp;
                        }
                        match legacy::entity_id(param) {
                            Ok(entity_id) => Some(Found::Legacy(route, entity_id)),
                            Err(resp) => return resp,
                        }
                    }
                    legacy::Found::Method(allow) => return routes::method_not_allowed(allow),
                    legacy::Found::None => None,
                },
            }
        };
        match found {
            Some(Found::Current(route)) => self.current(req, route).await,
            Some(Found::Legacy(route, entity_id)) => self.legacy(req, route, entity_id).await,
            None => routes::not_found(),
        }
    }

    /// One request of the current protocol (found, and its name recorded, in `dispatch`): the I/O
    /// around the pure steps of [`routes::current`].
    async fn current<B>(&self, req: Request<B>, route: &current::Route) -> Response<ResponseBody>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        if req.method() != http::Method::POST {
            return routes::method_not_allowed("POST");
        }
        if let Err(resp) = require_json(&req) {
            return resp;
        }
        if let Some(resp) = self.reject_oversized(&req) {
            return resp;
        }
        let (parts, body) = req.into_parts();
        let identity = match self.identify(&parts).await {
            Ok(identity) => identity,
            Err(resp) => return resp,
        };
        if let Some(resp) = route.refuse_anonymous(identity.as_ref()) {
            return resp;
        }
        if let Err(resp) = self.authorize(route.name, identity.as_ref(), &parts).await {
            return resp;
        }
        let body = match self.read_json_object(body).await {
            Ok(body) => body,
            // An anonymous caller learns it is anonymous before anything about its JSON.
            Err(BodyError::Invalid(_)) if identity.is_none() => Map::new(),
            Err(e) => return e.into_response(),
        };
        let allowed = self.fields.get(route.name);
        let upstream = match current::plan(route, identity.as_ref(), body, allowed) {
            Ok(upstream) => upstream,
            Err(resp) => return resp,
        };
        match self.send(upstream).await {
            Ok(raw) => current::answer(route, raw, &|text| self.client.scrub(text)),
            Err(resp) => resp,
        }
    }

    /// One request of the legacy protocol: the I/O around the pure steps of [`routes::legacy`].
    /// (`find`, `answer_at_once` and `entity_id` ran in `dispatch`.)
    async fn legacy<B>(
        &self,
        req: Request<B>,
        route: &legacy::Route,
        entity_id: Option<Vec<u8>>,
    ) -> Response<ResponseBody>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        if route.has_body() {
            if let Err(resp) = require_json(&req) {
                return resp;
            }
            if let Some(resp) = self.reject_oversized(&req) {
                return resp;
            }
        }
        let (parts, body) = req.into_parts();
        let identity = match self.identify(&parts).await {
            Ok(identity) => identity,
            Err(resp) => return resp,
        };
        let read = if route.has_body() {
            let bytes = match self.read_bytes(body).await {
                Ok(bytes) => bytes,
                Err(resp) => return resp,
            };
            match parse_off_worker(bytes, route.reader(identity.is_some())).await {
                Ok(read) => read,
                Err(resp) => return resp,
            }
        } else {
            Ok(None)
        };
        let identity = match route.admit(identity, &read) {
            Ok(identity) => identity,
            Err(resp) => return resp,
        };
        if let Err(resp) = self.authorize(route.name, identity.as_ref(), &parts).await {
            return resp;
        }
        let allowed = self.fields.get(route.name);
        let query = parts.uri.query();
        let upstream = match legacy::plan(
            route,
            identity.as_ref(),
            read,
            entity_id.as_deref(),
            query,
            allowed,
        ) {
            Ok(upstream) => upstream,
            Err(resp) => return resp,
        };
        match self.send(upstream).await {
            Ok(raw) => legacy::answer(raw, &|text| self.client.scrub(text)),
            Err(resp) => resp,
        }
    }

    /// Answers 413 at once when the declared length is over the limit.
    fn reject_oversized<B>(&self, req: &Request<B>) -> Option<Response<ResponseBody>> {
        let len = req
            .headers()
            .get(http::header::CONTENT_LENGTH)?
            .to_str()
            .ok()?
            .parse::<u64>()
            .ok()?;
        (len > self.body_limit as u64).then(|| self.too_large())
    }

    fn too_large(&self) -> Response<ResponseBody> {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            &format!(
                "the request body is larger than the {}-byte limit",
                self.body_limit
            ),
        )
    }

    /// Runs the app's authorize hook (if any): `Err` is the 403 answer.
    async fn authorize(
        &self,
        route: &str,
        identity: Option<&Identity>,
        parts: &Parts,
    ) -> Result<(), Response<ResponseBody>> {
        let Some(hook) = &self.authorize else {
            return Ok(());
        };
        let access = Access {
            route,
            method: &parts.method,
            identity,
            parts,
        };
        if hook.allows(&access).await {
            Ok(())
        } else {
            tracing::info!(route, "the authorize hook refused the call");
            Err(error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "you are not allowed to use this route",
            ))
        }
    }

    /// Runs the identify hook; an empty customer id counts as anonymous, an error becomes a 500.
    async fn identify(&self, parts: &Parts) -> Result<Option<Identity>, Response<ResponseBody>> {
        match self.identify.identify(parts).await {
            Ok(Some(identity)) if !identity.customer_id.is_empty() => {
                tracing::Span::current().record("customer_id", identity.customer_id.as_str());
                Ok(Some(identity))
            }
            Ok(_) => Ok(None),
            Err(e) => {
                tracing::error!(error = %e, "the identify hook failed");
                Err(error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "identify_error",
                    "could not identify the caller",
                ))
            }
        }
    }

    /// Reads the whole body (bounded in size and time) without interpreting it.
    async fn read_bytes<B>(&self, body: B) -> Result<Bytes, Response<ResponseBody>>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        let limited = Limited::new(body, self.body_limit);
        match tokio::time::timeout(self.body_timeout, crate::body::collect_bytes(limited)).await {
            Ok(Ok(bytes)) => Ok(bytes),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(self.too_large()),
            Ok(Err(_)) => Err(error(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "the request body could not be read",
            )),
            Err(_) => Err(error(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body did not arrive in time",
            )),
        }
    }

    /// Reads the body as a JSON object; an empty body is an empty object.
    async fn read_json_object<B>(&self, body: B) -> Result<Map<String, Value>, BodyError>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        let bytes = self.read_bytes(body).await.map_err(BodyError::Transport)?;
        parse_off_worker(bytes, current::parse_body)
            .await
            .map_err(BodyError::Transport)?
            .map_err(BodyError::Invalid)
    }

    /// Makes the upstream call; any status Autumn answered comes back, a failure without an answer
    /// (timeout, connection, decoding) is the browser's error response.
    async fn send(&self, upstream: Upstream) -> Result<RawResponse, Response<ResponseBody>> {
        let started = Instant::now();
        let result = self
            .client
            .execute(upstream.operation, upstream.body, None)
            .await;
        let span = tracing::Span::current();
        span.record("upstream_ms", started.elapsed().as_millis() as u64);
        match result {
            Ok(raw) => {
                span.record("upstream_status", raw.status.as_u16());
                Ok(raw)
            }
            Err(e) => Err(upstream_failure(&e)),
        }
    }
}

/// Refuses a POST whose body is not declared `application/json` (415): a form or `text/plain` POST
/// from another website needs no CORS preflight, so without this check any site could make a
/// logged-in visitor's browser attach plans or cancel subscriptions (cross-site request forgery).
fn require_json<B>(req: &Request<B>) -> Result<(), Response<ResponseBody>> {
    let is_json = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the request body must be sent as application/json",
        ))
    }
}

/// Runs `parse` over a request body: on the task when it is small, on tokio's blocking pool when it is
/// larger than [`INLINE_PARSE_LIMIT`] (so that it holds no runtime worker). `parse` should also drop
/// whatever it builds and will not return, so that freeing it happens there too.
async fn parse_off_worker<R, F>(bytes: Bytes, parse: F) -> Result<R, Response<ResponseBody>>
where
    F: FnOnce(&[u8]) -> R + Send + 'static,
    R: Send + 'static,
{
    if bytes.len() <= INLINE_PARSE_LIMIT {
        return Ok(parse(&bytes));
    }
    tokio::task::spawn_blocking(move || parse(&bytes))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the request body could not be parsed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the request body could not be read",
            )
        })
}
