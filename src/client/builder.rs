//! [`ClientBuilder`]: the client's settings, read from the environment when unset.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::HeaderValue;
use http::Uri;
use secrecy::{ExposeSecret, SecretString};

use super::budget::RetryBudget;
use super::{Client, Inner, RetryPolicy, DEFAULT_API_VERSION, DEFAULT_BASE_URL};
use crate::error::Error;
use crate::transport::{HttpConfig, HttpTransport, HyperTransport, Transport};

/// Builds a [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    secret_key: Option<SecretString>,
    base_url: Option<String>,
    api_version: String,
    timeout: Duration,
    http: HttpConfig,
    retry: RetryPolicy,
    max_response_bytes: usize,
    transport: Option<Transport>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "[redacted]"),
            )
            .field("base_url", &self.base_url)
            .field("api_version", &self.api_version)
            .field("timeout", &self.timeout)
            .field("http", &self.http)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("custom_transport", &self.transport.is_some())
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            secret_key: None,
            base_url: None,
            api_version: DEFAULT_API_VERSION.to_owned(),
            timeout: Duration::from_secs(10),
            http: HttpConfig::default(),
            retry: RetryPolicy::default(),
            max_response_bytes: 16 * 1024 * 1024,
            transport: None,
        }
    }
}

impl ClientBuilder {
    /// The secret key (`am_sk_...`). Without one, `build` reads `AUTUMN_SECRET_KEY`.
    pub fn secret_key(mut self, key: impl Into<String>) -> Self {
        self.secret_key = Some(SecretString::from(key.into()));
        self
    }

    /// The API base URL, e.g. `https://api.useautumn.com` (a trailing `/v1` is tolerated). Without one,
    /// `build` reads `AUTUMN_API_URL`, and falls back to [`DEFAULT_BASE_URL`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The `x-api-version` header (default [`DEFAULT_API_VERSION`]).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = version.into();
        self
    }

    /// Deadline of one attempt: connecting, sending, and receiving the whole answer (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Deadline for opening a TCP connection with the default transport (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http.connect_timeout = timeout;
        self
    }

    /// Most idle pooled connections kept per host with the default transport (default 256; keep it
    /// above the calls in flight at once, or the pool reconnects under load).
    pub fn pool_max_idle_per_host(mut self, n: usize) -> Self {
        self.http.pool_max_idle_per_host = n;
        self
    }

    /// How long idle pooled connections are kept with the default transport (default 20 s).
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.http.pool_idle_timeout = timeout;
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Largest upstream answer accepted, in bytes (default 16 MiB). A larger one fails with a decode error.
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// Sends requests through `transport` (boxed) instead of the default hyper client.
    pub fn transport<T: HttpTransport>(mut self, transport: T) -> Self {
        self.transport = Some(Transport::new(transport));
        self
    }

    /// Builds the client (with the default hyper transport unless [`transport`](Self::transport) was set).
    ///
    /// Built without a TLS feature (`rustls` or `native-tls`), the default transport speaks plain HTTP
    /// only, so an `https://` base URL is a configuration error here rather than a key sent in clear text.
    pub fn build(mut self) -> Result<Client, Error> {
        let transport = match self.transport.take() {
            Some(t) => t,
            None => {
                if !crate::transport::HAS_TLS && self.resolved_base_url().starts_with("https:") {
                    return Err(Error::config(
                        "the base URL is https:// but this build has no TLS backend: enable the \
                         `rustls` or `native-tls` feature",
                    ));
                }
                Transport::new(HyperTransport::new(&self.http)?)
            }
        };
        self.build_with_transport(transport)
    }

    fn resolved_base_url(&self) -> String {
        match &self.base_url {
            Some(u) => u.trim().to_ascii_lowercase(),
            None => std::env::var("AUTUMN_API_URL")
                .ok()
                .filter(|u| !u.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned())
                .trim()
                .to_ascii_lowercase(),
        }
    }

    /// Builds a client around a concrete transport type, without boxing it.
    pub fn build_with_transport<T: HttpTransport>(self, transport: T) -> Result<Client<T>, Error> {
        let key = match self.secret_key {
            Some(k) => k,
            None => match std::env::var("AUTUMN_SECRET_KEY") {
                Ok(k) if !k.trim().is_empty() => SecretString::from(k),
                _ => return Err(Error::config(
                    "no secret key: pass one to ClientBuilder::secret_key or set AUTUMN_SECRET_KEY",
                )),
            },
        };
        let base = match self.base_url {
            Some(u) => u,
            None => std::env::var("AUTUMN_API_URL")
                .ok()
                .filter(|u| !u.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
        };
        let base = normalize_base_url(&base)?;
        let auth = bearer(&key)?;
        let api_version = HeaderValue::from_str(&self.api_version)
            .map_err(|_| Error::config("the API version is not a valid header value"))?;
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                origin: super::origin_of(&base),
                base,
                headers: super::request_headers(auth, api_version.clone()),
                secret: key,
                api_version,
                timeout: self.timeout,
                retry: self.retry,
                budget: RetryBudget::new(0.2, 10),
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

fn bearer(key: &SecretString) -> Result<HeaderValue, Error> {
    let k = key.expose_secret();
    if k.trim().is_empty() {
        return Err(Error::config("the secret key is empty"));
    }
    if !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::config(
            "the secret key contains spaces or non-ASCII characters; copy it again from the Autumn dashboard",
        ));
    }
    let mut v = HeaderValue::from_str(&format!("Bearer {k}"))
        .map_err(|_| Error::config("the secret key is not a valid header value"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// Parses a base URL: scheme and authority, any trailing `/` and `/v1` dropped, other paths kept.
pub(crate) fn normalize_base_url(url: &str) -> Result<String, Error> {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/v1").unwrap_or(trimmed);
    let uri: Uri = trimmed
        .parse()
        .map_err(|_| Error::config(format!("the base URL {url:?} is not a valid URL")))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => {
            return Err(Error::config(format!(
                "the base URL {url:?} must start with http:// or https://"
            )))
        }
    }
    if uri.authority().is_none() {
        return Err(Error::config(format!("the base URL {url:?} has no host")));
    }
    Ok(trimmed.to_owned())
}
