//! The typed Autumn REST API client.
//!
//! [`Client`] is cheap to clone (an `Arc` inside) and meant to be built once and shared. Each API resource
//! has a handle with one method per operation: [`Client::customers`], [`Client::balances`],
//! [`Client::billing`], ... The wire format is the current API's (snake_case JSON, `x-api-version: 2.4.0`);
//! the older v1.2 calls live beside these in their own module.
//!
//! ```no_run
//! use autumn_tower::models::{CheckParams, TrackParams};
//!
//! # async fn demo() -> Result<(), autumn_tower::Error> {
//! // Reads AUTUMN_SECRET_KEY (and AUTUMN_API_URL, if set).
//! let client = autumn_tower::Client::from_env()?;
//! let answer = client.balances().check(&CheckParams::new("user_123", "messages")).await?;
//! if answer.allowed {
//!     // ... do the work, then record it:
//!     client.balances().track(&TrackParams::new("user_123", "messages", 1.0)).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! # Retries never double-bill
//!
//! A call is retried (at most [`RetryPolicy::max_retries`] times, exponential backoff with jitter,
//! `Retry-After` honoured, within a shared retry budget of about 20% extra requests) only when repeating it is
//! harmless:
//!
//! - any call whose connection could not be opened (the request was never sent);
//! - reads and previews, on a timeout, a dropped connection, 429, 502, 503 or 504;
//! - `balances().track(..)`, which always carries an `Idempotency-Key` (the one you set, or a random one the
//!   client generates before the first attempt and reuses on every retry). Autumn answers a repeated key with
//!   409 `duplicate_idempotency_key`; on a retry that means the first attempt was accepted, and the call
//!   returns an [`ErrorKind::AlreadyApplied`](crate::ErrorKind::AlreadyApplied) error rather than sending
//!   anything again;
//! - never `attach`, `update`, `multi_attach`, `setup_payment` or any other write once the request may
//!   have reached Autumn.

pub(crate) mod balances;
mod budget;
mod builder;
pub(crate) mod generated;
mod keys;
pub mod legacy;
mod ops;
mod pages;
mod raw;

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT,
};
use http::{Method, StatusCode, Uri};
use http_body_util::Full;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;

use self::budget::RetryBudget;

pub use self::builder::ClientBuilder;

pub use self::generated::{
    Balances, Billing, Customers, Entities, Events, Features, Invoices, Keys, Licenses, Plans,
    Platform, ReferralPrograms, Referrals, Rewards,
};
#[allow(unused_imports)]
pub(crate) use self::ops::{BodyKind, OperationInfo, OPERATIONS};
pub use self::pages::{CursorPage, CursorParams, Pages};
pub use self::raw::{RawRequest, RetryClass};

use crate::error::{excerpt, ApiError, Error};
use crate::transport::exchange::exchange;
pub(crate) use crate::transport::exchange::RawResponse;
use crate::transport::{HttpTransport, Transport};

/// The production Autumn API.
pub const DEFAULT_BASE_URL: &str = "https://api.useautumn.com";
/// The API version this crate speaks (the one autumn-js 1.3.13 sends).
pub const DEFAULT_API_VERSION: &str = "2.4.0";

const USER_AGENT_VALUE: &str = concat!("autumn-rs/", env!("CARGO_PKG_VERSION"));
static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
static API_VERSION: HeaderName = HeaderName::from_static("x-api-version");

/// When and how often failed calls are retried. See the [module docs](self) for what is ever retried.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2).
    pub max_retries: u32,
    /// Backoff before the first retry (default 100 ms); doubles each time, with full jitter.
    pub initial_backoff: Duration,
    /// Longest single wait, including a `Retry-After` (default 5 s). A longer `Retry-After` is not waited for.
    pub max_backoff: Duration,
    /// The whole call, all attempts and waits included, never takes longer than this (default 30 s).
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Sets the backoff before the first retry.
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Sets the number of retries after the first attempt.
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }
}

/// Whether an operation may be repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads and previews: repeating is harmless.
    Safe,
    /// Writes that carry an idempotency key (track).
    Idempotent,
    /// Writes: only repeated when the request was provably never sent.
    Never,
}

/// One upstream operation: method, path (with any query), retry class, and the API version it speaks.
#[derive(Clone, Debug)]
pub(crate) struct Operation {
    pub(crate) method: Method,
    /// Under the base URL, starting with `/v1`; built per call when it carries ids.
    pub(crate) path: Cow<'static, str>,
    pub(crate) retry: Retry,
    /// The `x-api-version` of this call; `None` sends the client's configured one.
    pub(crate) api_version: Option<&'static str>,
}

impl Operation {
    pub(crate) const fn post(path: &'static str, retry: Retry) -> Self {
        Operation {
            method: Method::POST,
            path: Cow::Borrowed(path),
            retry,
            api_version: None,
        }
    }

    /// Any method, any path, pinned to one API version (the v1.2 calls of [`legacy`]).
    pub(crate) fn versioned(
        method: Method,
        path: impl Into<Cow<'static, str>>,
        retry: Retry,
        api_version: &'static str,
    ) -> Self {
        Operation {
            method,
            path: path.into(),
            retry,
            api_version: Some(api_version),
        }
    }
}

/// Room for the headers a request adds to the fixed ones: an idempotency key, then `host` and
/// `content-length` from the transport (another authorization or API version replaces a fixed one).
const EXTRA_HEADERS: usize = 3;

/// The headers of every upstream request, in the order they are written.
fn request_headers(auth: HeaderValue, api_version: HeaderValue) -> HeaderMap {
    let mut h = HeaderMap::with_capacity(6);
    h.insert(AUTHORIZATION, auth);
    h.insert(&API_VERSION, api_version);
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(ACCEPT, HeaderValue::from_static("application/json"));
    h.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    h
}

struct Inner<T> {
    transport: T,
    base: String,
    /// `base`'s scheme and authority, parsed once, when `base` has no path: every request URI is then
    /// assembled from them and the operation's path, without parsing (or copying) the base again.
    origin: Option<(http::uri::Scheme, http::uri::Authority)>,
    /// The headers every upstream request carries (authorization, API version, content type,
    /// accept, user agent), built once and copied into each request.
    headers: HeaderMap,
    secret: SecretString,
    api_version: HeaderValue,
    timeout: Duration,
    retry: RetryPolicy,
    budget: RetryBudget,
    max_response_bytes: usize,
}

/// The Autumn REST API client. Cheap to clone; share one per process.
///
/// `T` is the transport; the default, [`Transport`], is a boxed one, so every client built by
/// [`ClientBuilder::build`] has the same type whatever carries its requests.
pub struct Client<T = Transport> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Client {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("autumn_tower::Client")
            .field("base_url", &self.inner.base)
            .field("api_version", &self.inner.api_version)
            .field("secret_key", &"[redacted]")
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

impl Client {
    /// A builder with the defaults (reads `AUTUMN_SECRET_KEY` and `AUTUMN_API_URL` at `build` when unset).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client with `secret_key` and every other setting at its default.
    pub fn new(secret_key: impl Into<String>) -> Result<Client, Error> {
        Client::builder().secret_key(secret_key).build()
    }

    /// A client configured from `AUTUMN_SECRET_KEY` and `AUTUMN_API_URL`.
    pub fn from_env() -> Result<Client, Error> {
        Client::builder().build()
    }
}

impl<T: HttpTransport> Client<T> {
    /// The base URL requests go to (without `/v1`).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The v1.2 API (`x-api-version: 1.2`) that autumn-js 0.x and the Python SDK call: attach, check,
    /// track, customers, entities, products, ... See [`legacy`].
    pub fn legacy(&self) -> legacy::Legacy<'_, T> {
        legacy::Legacy::new(self)
    }

    /// Sends `body` as JSON and decodes a 2xx answer as `R`; a non-2xx answer becomes an API error.
    pub(crate) async fn call<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        op: Operation,
        body: &B,
        idempotency_key: Option<&str>,
    ) -> Result<R, Error> {
        let bytes = Bytes::from(serde_json::to_vec(body).map_err(Error::encode)?);
        let key = match (op.retry, idempotency_key) {
            (_, Some(k)) => Some(k.to_owned()),
            (Retry::Idempotent, None) => Some(uuid::Uuid::new_v4().to_string()),
            _ => None,
        };
        let raw = self.execute(op, Some(bytes), key.as_deref()).await?;
        self.decode(raw)
    }

    /// For operations whose spec has no body: sends `params` only when `empty` is false (it has
    /// `extra` fields), and decodes a 2xx answer as `R`.
    pub(crate) async fn call_params<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        op: Operation,
        params: &B,
        empty: bool,
    ) -> Result<R, Error> {
        if empty {
            self.call_without_body(op).await
        } else {
            self.call(op, params, None).await
        }
    }

    /// Sends the call without a body (operations whose spec has none) and decodes a 2xx answer as `R`.
    pub(crate) async fn call_without_body<R: DeserializeOwned>(
        &self,
        op: Operation,
    ) -> Result<R, Error> {
        let raw = self.execute(op, None, None).await?;
        self.decode(raw)
    }

    pub(crate) fn decode<R: DeserializeOwned>(&self, raw: RawResponse) -> Result<R, Error> {
        if !raw.status.is_success() {
            return Err(Error::from_api(self.api_error(raw.status, &raw.body)));
        }
        serde_json::from_slice(&raw.body).map_err(|e| {
            // serde's message quotes the value that did not fit (`invalid type: string "..."`): scrubbed
            // like the excerpt.
            Error::decode(
                raw.status,
                format!(
                    "{}; the body starts with {:?}",
                    self.scrub(&e.to_string()),
                    excerpt(&raw.body, 120, self.inner.secret.expose_secret())
                ),
            )
        })
    }

    /// Reads Autumn's error body (`message`, `code`); a body that is not a JSON object gives a generic code
    /// and a scrubbed excerpt (for the application's logs; the service never shows it to a browser).
    pub(crate) fn api_error(&self, status: StatusCode, body: &[u8]) -> ApiError {
        self.api_error_object(status, body).unwrap_or_else(|| {
            ApiError::new(
                status,
                GENERIC_CODE,
                excerpt(body, 200, self.inner.secret.expose_secret()),
            )
        })
    }

    /// Autumn's error body when it is a JSON object (see [`api_error_object`]), scrubbed with this
    /// client's key.
    pub(crate) fn api_error_object(&self, status: StatusCode, body: &[u8]) -> Option<ApiError> {
        api_error_object(status, body, &|text| self.scrub(text))
    }

    /// `text` without the secret key, or anything shaped like a key or a bearer token (see
    /// [`crate::error::scrub`]): for every string taken from Autumn's answers that leaves the process.
    pub(crate) fn scrub(&self, text: &str) -> String {
        crate::error::scrub(text, self.inner.secret.expose_secret())
    }

    /// Sends one call with retries as its [`Retry`] class allows; any status is returned as-is.
    pub(crate) async fn execute(
        &self,
        op: Operation,
        body: Option<Bytes>,
        idempotency_key: Option<&str>,
    ) -> Result<RawResponse, Error> {
        self.execute_as(op, body, idempotency_key, None).await
    }

    /// [`execute`](Self::execute) with another `Authorization` value than the secret key's (`keys.refresh`
    /// authenticates with the refresh token).
    pub(crate) async fn execute_as(
        &self,
        op: Operation,
        body: Option<Bytes>,
        idempotency_key: Option<&str>,
        auth: Option<&HeaderValue>,
    ) -> Result<RawResponse, Error> {
        let inner = &*self.inner;
        let started = Instant::now();
        let uri = request_uri(&inner.base, inner.origin.as_ref(), &op.path)
            .map_err(|_| Error::config(format!("invalid request path {:?}", op.path)))?;
        let key_header =
            match idempotency_key {
                Some(k) => Some(HeaderValue::from_str(k).map_err(|_| {
                    Error::config("the idempotency key is not a valid header value")
                })?),
                None => None,
            };
        let retry_class = if key_header.is_some() && op.retry == Retry::Never {
            Retry::Idempotent
        } else {
            op.retry
        };
        let body = body.unwrap_or_default();
        let mut attempt: u32 = 0;
        inner.budget.deposit();
        loop {
            let mut req = http::Request::new(Full::new(body.clone()));
            *req.method_mut() = op.method.clone();
            *req.uri_mut() = uri.clone();
            // Not `inner.headers.clone()`: a clone's entries have no spare room, and the transport
            // adds `host` and `content-length`, each of which would then reallocate the map.
            let h = req.headers_mut();
            h.reserve(inner.headers.len() + EXTRA_HEADERS);
            for (name, value) in &inner.headers {
                h.append(name.clone(), value.clone());
            }
            if let Some(a) = auth {
                h.insert(AUTHORIZATION, a.clone());
            }
            if let Some(v) = op.api_version {
                h.insert(&API_VERSION, HeaderValue::from_static(v));
            }
            if let Some(k) = &key_header {
                h.insert(&IDEMPOTENCY_KEY, k.clone());
            }

            let outcome = self.attempt(req).await;
            let (retryable, retry_after) = match &outcome {
                Ok((raw, retry_after)) => {
                    if attempt > 0
                        && raw.status == StatusCode::CONFLICT
                        && key_header.is_some()
                        && is_duplicate_key(&raw.body)
                    {
                        return Err(Error::already_applied(
                            self.api_error(raw.status, &raw.body),
                        ));
                    }
                    let transient = matches!(raw.status.as_u16(), 429 | 502 | 503 | 504);
                    (transient && retry_class != Retry::Never, *retry_after)
                }
                // Never sent: repeating cannot duplicate anything.
                Err(e) if e.is_connect() => (true, None),
                Err(_) => (retry_class != Retry::Never, None),
            };
            let backoff = if retryable && attempt < inner.retry.max_retries {
                self.backoff(attempt, retry_after)
                    .filter(|b| started.elapsed() + *b + inner.timeout <= inner.retry.max_elapsed)
            } else {
                None
            };
            let Some(backoff) = backoff.filter(|_| inner.budget.withdraw()) else {
                return outcome.map(|(raw, _)| raw);
            };
            tracing::debug!(
                path = &*op.path,
                attempt = attempt + 1,
                backoff_ms = backoff.as_millis() as u64,
                "retrying Autumn call"
            );
            tokio::time::sleep(backoff).await;
            attempt += 1;
        }
    }

    /// Full-jitter exponential backoff, or the server's `Retry-After` when it fits under `max_backoff`.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let p = &self.inner.retry;
        if let Some(ra) = retry_after {
            return (ra <= p.max_backoff).then_some(ra);
        }
        let cap = p
            .initial_backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(p.max_backoff);
        let nanos = cap.as_nanos().min(u64::MAX as u128) as u64;
        Some(Duration::from_nanos(
            nanos / 2 + fastrand::u64(0..=nanos / 2),
        ))
    }

    /// One attempt under the per-attempt deadline: send, then read the whole (bounded) body.
    async fn attempt(
        &self,
        req: http::Request<Full<Bytes>>,
    ) -> Result<(RawResponse, Option<Duration>), Error> {
        let inner = &*self.inner;
        let limit = inner.max_response_bytes;
        let fut = async {
            // The boxed default transport runs the whole exchange in the one future it boxes: its
            // answer's body is then read where its type is known, without a box of its own.
            let erased: &dyn Any = &inner.transport;
            match erased.downcast_ref::<Transport>() {
                Some(transport) => transport.exchange(req, limit).await,
                None => exchange(inner.transport.send(req), limit).await,
            }
        };
        match tokio::time::timeout(inner.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(Error::timeout(inner.timeout)),
        }
    }
}

/// The longest URI `http` parses (`Uri`'s own limit, which `Uri::from_parts` does not check).
const MAX_URI_LEN: usize = u16::MAX as usize - 1;

/// The absolute URI of `path` under `base`: the same `Uri` as parsing `base` followed by `path`. With the
/// base's pre-parsed `origin` (a base without a path) and a path starting with `/`, only the path is
/// parsed: a static path is not even copied, and the authority is shared.
// The `Cow` itself is the point: a borrowed path is `'static`, and is used without a copy.
#[allow(clippy::ptr_arg)]
fn request_uri(
    base: &str,
    origin: Option<&(http::uri::Scheme, http::uri::Authority)>,
    path: &Cow<'static, str>,
) -> Result<Uri, http::Error> {
    match origin {
        Some((scheme, authority))
            if path.starts_with('/') && base.len() + path.len() <= MAX_URI_LEN =>
        {
            let bytes = match path {
                Cow::Borrowed(p) => Bytes::from_static(p.as_bytes()),
                Cow::Owned(p) => Bytes::copy_from_slice(p.as_bytes()),
            };
            let mut parts = http::uri::Parts::default();
            parts.scheme = Some(scheme.clone());
            parts.authority = Some(authority.clone());
            parts.path_and_query = Some(http::uri::PathAndQuery::from_maybe_shared(bytes)?);
            Ok(Uri::from_parts(parts)?)
        }
        _ => {
            let mut s = String::with_capacity(base.len() + path.len());
            s.push_str(base);
            s.push_str(path);
            Ok(s.parse::<Uri>()?)
        }
    }
}

/// `base`'s scheme and authority when it has nothing after them (no path, query or fragment).
pub(crate) fn origin_of(base: &str) -> Option<(http::uri::Scheme, http::uri::Authority)> {
    let uri: Uri = base.parse().ok()?;
    let scheme = uri.scheme()?.clone();
    let authority = uri.authority()?.clone();
    (base.len() == scheme.as_str().len() + "://".len() + authority.as_str().len())
        .then_some((scheme, authority))
}

fn is_duplicate_key(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Body {
        code: Option<String>,
    }
    serde_json::from_slice::<Body>(body)
        .ok()
        .and_then(|b| b.code)
        .is_some_and(|c| c == "duplicate_idempotency_key")
}

/// The code of an Autumn error whose body has no string `code`.
pub(crate) const GENERIC_CODE: &str = "autumn_api_error";

/// Autumn's error body when it is a JSON object: a string `message` or `code` as Autumn sent it,
/// passed through `scrub`; a missing one, or one that is not a string, the generic one (nothing else of
/// the body is kept). `None` for any other body.
pub(crate) fn api_error_object(
    status: StatusCode,
    body: &[u8],
    scrub: &dyn Fn(&str) -> String,
) -> Option<ApiError> {
    let serde_json::Value::Object(mut body) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    let message = match body.remove("message") {
        Some(serde_json::Value::String(s)) => scrub(&s),
        _ => generic_message(status).to_owned(),
    };
    let code = match body.remove("code") {
        Some(serde_json::Value::String(s)) => scrub(&s),
        _ => GENERIC_CODE.to_owned(),
    };
    Some(ApiError::new(status, code, message))
}

/// The message of an Autumn error whose body has no string `message`: the status's reason phrase.
pub(crate) fn generic_message(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("error")
}

/// Declares a resource handle: a borrowed view of the client grouping one resource's operations.
macro_rules! resource {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<'a, T = $crate::transport::Transport> {
            pub(crate) client: &'a $crate::client::Client<T>,
        }

        impl<'a, T> $name<'a, T> {
            pub(crate) fn new(client: &'a $crate::client::Client<T>) -> Self {
                Self { client }
            }
        }

        impl<T> std::fmt::Debug for $name<'_, T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use resource;

#[cfg(test)]
mod tests {
    use super::*;

    /// The URI assembled from the pre-parsed origin is the one parsing the whole string gives, and a path
    /// that does not parse fails either way.
    #[test]
    fn request_uris_from_the_origin_are_the_parsed_ones() {
        let paths = [
            "/v1/customers.get_or_create",
            "/v1/entities/ent%201?expand=x",
            "//v1/x",
            "/v1/a#frag",
            "/v1/a b",
            "/v1/\u{e9}",
        ];
        for base in ["http://127.0.0.1:8080", "https://api.useautumn.com"] {
            let origin = origin_of(base);
            assert!(origin.is_some(), "{base}");
            for path in paths {
                for path in [Cow::Borrowed(path), Cow::Owned(path.to_owned())] {
                    let fast = request_uri(base, origin.as_ref(), &path).ok();
                    let parsed = format!("{base}{path}").parse::<Uri>().ok();
                    assert_eq!(fast, parsed, "{base} {path}");
                    if let Some(uri) = fast {
                        assert_eq!(uri.to_string(), parsed.unwrap().to_string());
                    }
                }
            }
        }
        // A base with a path (or anything after its authority) is joined as a string, as before.
        for base in ["http://proxy.internal/autumn", "http://h?x=1", "http://h/"] {
            assert!(origin_of(base).is_none(), "{base}");
        }
        let joined = request_uri(
            "http://proxy.internal/autumn",
            None,
            &Cow::Borrowed("/v1/x"),
        );
        assert_eq!(
            joined.unwrap().to_string(),
            "http://proxy.internal/autumn/v1/x"
        );
    }

    /// Without a TLS backend an `https` base URL must not build: the key would travel in clear text.
    #[test]
    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    fn https_without_tls_is_a_configuration_error() {
        let err = Client::builder()
            .secret_key("am_sk_test_123")
            .base_url("HTTPS://api.example.com")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Config);
        assert!(err.to_string().contains("TLS"), "{err}");
        // Plain HTTP (loopback, tests) still builds.
        Client::builder()
            .secret_key("am_sk_test_123")
            .base_url("http://127.0.0.1:1")
            .build()
            .unwrap();
    }

    /// With a TLS backend the same URL builds.
    #[test]
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    fn https_with_tls_builds() {
        Client::builder()
            .secret_key("am_sk_test_123")
            .base_url("https://api.example.com")
            .build()
            .unwrap();
    }
}
