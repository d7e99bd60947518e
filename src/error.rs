//! The crate's one error type.
//!
//! Every fallible call of the [`Client`](crate::Client) returns [`Error`]. It is opaque, like reqwest's and
//! hyper's: ask it what happened with [`Error::kind`], [`Error::status`], [`Error::api`] or the `is_*` helpers,
//! and walk [`std::error::Error::source`] for the underlying cause.
//!
//! ```
//! # async fn demo(client: autumn_tower::Client) {
//! use autumn_tower::models::CheckParams;
//! match client.balances().check(&CheckParams::new("user_1", "messages")).await {
//!     Ok(answer) => println!("allowed: {}", answer.allowed),
//!     Err(err) if err.is_timeout() => eprintln!("Autumn was slow: {err}"),
//!     Err(err) => match err.api() {
//!         Some(api) => eprintln!("Autumn said {} ({}): {}", api.status(), api.code(), api.message()),
//!         None => eprintln!("{err}"),
//!     },
//! }
//! # }
//! ```
//!
//! The secret key never appears in the `Debug` or `Display` output of an error: errors are built from
//! statuses, codes, messages and short excerpts of response bodies, and every message, code and excerpt taken
//! from Autumn's answer is scrubbed of the key (and of anything shaped like a key or a bearer token) before
//! it is cut short.

use std::fmt;
use std::time::Duration;

use http::StatusCode;

/// A boxed error, as tower and hyper use (also [`transport::BoxError`](crate::transport::BoxError)).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, in broad strokes. New kinds may be added in minor releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Autumn answered with a non-success status; see [`Error::api`].
    Api,
    /// The connection to Autumn could not be opened (refused, DNS, TLS). The request was never sent.
    Connect,
    /// The connection failed after it was opened (reset, closed mid-body, protocol error).
    Transport,
    /// Autumn did not answer within the configured timeout.
    Timeout,
    /// Autumn answered with a success status but a body that could not be decoded.
    Decode,
    /// The request carried an idempotency key that Autumn had already accepted on an earlier attempt of the
    /// same call (a retry after a lost answer). The operation took effect once; re-read the state you need.
    AlreadyApplied,
    /// The client is misconfigured (missing or malformed secret key, bad base URL, ...).
    Config,
    /// The request could not be encoded (e.g. a value that is not representable as JSON).
    Encode,
    /// The blocking client was called from inside an async runtime (a `spawn_blocking` thread included).
    BlockingInAsyncContext,
}

/// Autumn's own error answer: the HTTP status and the `code` and `message` of its JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
}

impl ApiError {
    /// Builds an API error (useful for test doubles).
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// The HTTP status Autumn answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Autumn's machine-readable error code, e.g. `customer_not_found`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Autumn's human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ApiError {
    /// `Autumn answered 404 Not Found (customer_not_found): Customer x not found`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Autumn answered {} ({}): {}",
            self.status, self.code, self.message
        )
    }
}

impl std::error::Error for ApiError {}

/// The error of every fallible operation in this crate.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    api: Option<ApiError>,
    status: Option<StatusCode>,
    detail: Option<String>,
    timeout: Option<Duration>,
    source: Option<BoxError>,
}

impl Error {
    fn new(kind: ErrorKind) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                api: None,
                status: None,
                detail: None,
                timeout: None,
                source: None,
            }),
        }
    }

    pub(crate) fn from_api(api: ApiError) -> Self {
        let mut e = Error::new(ErrorKind::Api);
        e.inner.status = Some(api.status);
        e.inner.api = Some(api);
        e
    }

    pub(crate) fn already_applied(api: ApiError) -> Self {
        let mut e = Error::new(ErrorKind::AlreadyApplied);
        e.inner.status = Some(api.status);
        e.inner.api = Some(api);
        e
    }

    pub(crate) fn connect(source: BoxError) -> Self {
        Error::new(ErrorKind::Connect).with_source(source)
    }

    pub(crate) fn transport(source: BoxError) -> Self {
        Error::new(ErrorKind::Transport).with_source(source)
    }

    pub(crate) fn timeout(after: Duration) -> Self {
        let mut e = Error::new(ErrorKind::Timeout);
        e.inner.timeout = Some(after);
        e
    }

    pub(crate) fn decode(status: StatusCode, detail: impl Into<String>) -> Self {
        let mut e = Error::new(ErrorKind::Decode);
        e.inner.status = Some(status);
        e.inner.detail = Some(detail.into());
        e
    }

    pub(crate) fn config(detail: impl Into<String>) -> Self {
        let mut e = Error::new(ErrorKind::Config);
        e.inner.detail = Some(detail.into());
        e
    }

    pub(crate) fn encode(source: serde_json::Error) -> Self {
        Error::new(ErrorKind::Encode).with_source(Box::new(source))
    }

    #[cfg_attr(not(feature = "blocking"), allow(dead_code))]
    pub(crate) fn blocking_in_async() -> Self {
        Error::new(ErrorKind::BlockingInAsyncContext)
    }

    fn with_source(mut self, source: BoxError) -> Self {
        self.inner.source = Some(source);
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status Autumn answered with, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// Autumn's error answer (status, code, message) when this is an [`ErrorKind::Api`] or
    /// [`ErrorKind::AlreadyApplied`] error.
    pub fn api(&self) -> Option<&ApiError> {
        self.inner.api.as_ref()
    }

    /// True when Autumn did not answer in time.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// True when no connection to Autumn could be opened (so the request was never sent).
    pub fn is_connect(&self) -> bool {
        self.inner.kind == ErrorKind::Connect
    }

    /// True when Autumn answered with a non-success status.
    pub fn is_api(&self) -> bool {
        self.inner.kind == ErrorKind::Api
    }

    /// True when Autumn answered success with a body that could not be decoded.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == ErrorKind::Decode
    }

    /// True when Autumn is unavailable rather than refusing the call: the connection failed or broke,
    /// the answer did not come in time, or Autumn answered 5xx. These are the failures a fail-open
    /// policy lets through (see [`Balances::check_fail_open`](crate::client::Balances::check_fail_open)
    /// and [`metering`](crate::metering)); 4xx answers are integration bugs and never count.
    pub fn is_unavailable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Connect | ErrorKind::Transport | ErrorKind::Timeout => true,
            ErrorKind::Api => self.inner.status.is_some_and(|s| s.is_server_error()),
            _ => false,
        }
    }

    /// A short word for the logs of an unavailable Autumn: the status (`503`), `timeout`, `connect`
    /// or `transport`.
    pub(crate) fn unavailable_status(&self) -> String {
        match (self.inner.kind, self.inner.status) {
            (_, Some(status)) => status.as_u16().to_string(),
            (ErrorKind::Timeout, None) => "timeout".to_owned(),
            (ErrorKind::Connect, None) => "connect".to_owned(),
            (ErrorKind::Transport, None) => "transport".to_owned(),
            (kind, None) => format!("{kind:?}").to_ascii_lowercase(),
        }
    }

    /// True when an earlier attempt of the same idempotent call was already accepted by Autumn.
    pub fn is_already_applied(&self) -> bool {
        self.inner.kind == ErrorKind::AlreadyApplied
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("autumn_tower::Error");
        d.field("kind", &self.inner.kind);
        if let Some(api) = &self.inner.api {
            d.field("api", api);
        } else if let Some(status) = &self.inner.status {
            d.field("status", status);
        }
        if let Some(detail) = &self.inner.detail {
            d.field("detail", detail);
        }
        if let Some(t) = &self.inner.timeout {
            d.field("timeout", t);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        match i.kind {
            ErrorKind::Api => {
                let api = i.api.as_ref().expect("api errors carry their body");
                fmt::Display::fmt(api, f)
            }
            ErrorKind::AlreadyApplied => f.write_str(
                "Autumn had already accepted this request on an earlier attempt (same idempotency key); \
                 it took effect once: re-read the state you need instead of repeating it",
            ),
            ErrorKind::Connect => {
                f.write_str("could not connect to the Autumn API (the request was not sent)")?;
                if let Some(s) = &i.source {
                    write!(f, ": {s}")?;
                }
                f.write_str("; check AUTUMN_API_URL and the network")
            }
            ErrorKind::Transport => {
                f.write_str("the connection to the Autumn API failed before its answer was complete")?;
                if let Some(s) = &i.source {
                    write!(f, ": {s}")?;
                }
                Ok(())
            }
            ErrorKind::Timeout => match i.timeout {
                Some(t) => write!(
                    f,
                    "the Autumn API did not answer within {t:?}; raise the client's timeout or retry later"
                ),
                None => f.write_str("the Autumn API did not answer in time"),
            },
            ErrorKind::Decode => write!(
                f,
                "the Autumn API answered {} with a body this client could not decode: {}",
                i.status.map(|s| s.as_u16()).unwrap_or(0),
                i.detail.as_deref().unwrap_or("")
            ),
            ErrorKind::Config => write!(
                f,
                "invalid Autumn client configuration: {}",
                i.detail.as_deref().unwrap_or("")
            ),
            ErrorKind::Encode => {
                f.write_str("the request could not be encoded as JSON")?;
                if let Some(s) = &i.source {
                    write!(f, ": {s}")?;
                }
                Ok(())
            }
            ErrorKind::BlockingInAsyncContext => f.write_str(
                "autumn_tower::blocking::Client was called from inside an async runtime (a \
                 spawn_blocking thread counts); use the async autumn_tower::Client there, or call it \
                 from a thread of your own (std::thread::spawn)",
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What a secret is replaced with in any text that leaves the process.
pub(crate) const REDACTED: &str = "[redacted]";

/// Removes from `text` the secret key and anything shaped like a key or a credential: `am_sk_...` (up to
/// the end of the key's characters) and the token after `Bearer` (any case). A message may lose a word
/// that only looks like a token (`Bearer token` becomes `Bearer [redacted]`); no key survives. Linear.
pub(crate) fn scrub(text: &str, secret: &str) -> String {
    let text = if !secret.is_empty() && text.contains(secret) {
        std::borrow::Cow::Owned(text.replace(secret, REDACTED))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    let bytes = text.as_bytes();
    let run = |from: usize, f: fn(u8) -> bool| bytes[from..].iter().take_while(|&&b| f(b)).count();
    let mut out = String::new();
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        // Both patterns are ASCII, and so is every byte they take: the cuts are char boundaries.
        let cut = if bytes[i..].starts_with(b"am_sk_") {
            Some((i, i + 6 + run(i + 6, is_key_byte)))
        } else if bytes.len() - i >= 6 && bytes[i..i + 6].eq_ignore_ascii_case(b"bearer") {
            let start = i + 6 + run(i + 6, |b| b == b' ' || b == b'\t');
            let token = run(start, is_token68_byte);
            (start > i + 6 && token > 0)
                .then(|| (start, start + token + run(start + token, |b| b == b'=')))
        } else {
            None
        };
        match cut {
            Some((from, to)) => {
                out.push_str(&text[copied..from]);
                out.push_str(REDACTED);
                (i, copied) = (to, to);
            }
            None => i += 1,
        }
    }
    if copied == 0 {
        return text.into_owned();
    }
    out.push_str(&text[copied..]);
    out
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The characters of an RFC 6750 bearer token (before its trailing `=`).
fn is_token68_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

/// Returns at most `max` characters of `body` as text, for error messages an application logs, scrubbed
/// (see [`scrub`]) before it is cut, so that a key across the cut leaves no part of itself behind.
pub(crate) fn excerpt(body: &[u8], max: usize, secret: &str) -> String {
    let text = scrub(&String::from_utf8_lossy(body), secret);
    match text.char_indices().nth(max) {
        Some((end, _)) => {
            let mut out = text[..end].to_owned();
            out.push('…');
            out
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_bounded_and_scrubbed() {
        let body = b"oops am_sk_test_123 was here and more text follows";
        let e = excerpt(body, 20, "am_sk_test_123");
        assert!(!e.contains("am_sk_test_123"));
        assert!(e.ends_with('…'));
    }

    #[test]
    fn a_key_across_the_cut_leaves_nothing() {
        let secret = "am_sk_test_0123456789abcdef";
        for cut in 0..secret.len() + 2 {
            let body = format!("{}{secret} tail", "x".repeat(20 - cut.min(20)));
            let e = excerpt(body.as_bytes(), 20, secret);
            assert!(!e.contains("0123"), "{cut}: {e}");
        }
        // Another key, cut by the excerpt: its shape is enough.
        let e = excerpt(b"see am_sk_live_ABCDEFGHIJKLMNOP", 16, "am_sk_test_x");
        assert!(!e.contains("ABC"), "{e}");
    }

    #[test]
    fn scrub_removes_keys_and_bearer_tokens() {
        let secret = "am_sk_test_abc";
        assert_eq!(scrub("plain text", secret), "plain text");
        assert_eq!(
            scrub("key am_sk_test_abc, Bearer am_sk_test_abc.", secret),
            "key [redacted], Bearer [redacted]."
        );
        assert_eq!(
            scrub(
                "other am_sk_live_Z-9_x! and BEARER  abc.def/ghi== end",
                secret
            ),
            "other [redacted]! and BEARER  [redacted] end"
        );
        assert_eq!(scrub("Bearer", secret), "Bearer");
        assert_eq!(
            scrub("Bearer: x, bearer\u{e9}", secret),
            "Bearer: x, bearer\u{e9}"
        );
        assert_eq!(scrub("é am_sk_", secret), "é [redacted]");
    }

    #[test]
    fn display_is_a_sentence() {
        let e = Error::from_api(ApiError::new(
            StatusCode::NOT_FOUND,
            "customer_not_found",
            "Customer x not found",
        ));
        assert_eq!(
            e.to_string(),
            "Autumn answered 404 Not Found (customer_not_found): Customer x not found"
        );
        assert_eq!(e.status(), Some(StatusCode::NOT_FOUND));
        assert!(e.is_api());
    }

    /// `ApiError` is an error of its own: `Display` is the same sentence, and it boxes as `dyn Error`.
    #[test]
    fn api_error_is_a_std_error() {
        let api = ApiError::new(
            StatusCode::PAYMENT_REQUIRED,
            "payment_required",
            "Add a card",
        );
        assert_eq!(
            api.to_string(),
            "Autumn answered 402 Payment Required (payment_required): Add a card"
        );
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(api.clone());
        assert_eq!(boxed.to_string(), api.to_string());
        assert!(boxed.source().is_none());
        assert_eq!(Error::from_api(api.clone()).to_string(), api.to_string());
    }
}
