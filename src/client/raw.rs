//! The escape hatch ([`Client::raw`]): any Autumn operation by path, with JSON in and JSON out.
//!
//! For operations newer than this crate. The call goes through the same machinery as the typed
//! methods: the client's key and `x-api-version`, the per-attempt timeout, the retry rules of the
//! [`RetryClass`] you name (with an `Idempotency-Key` for [`RetryClass::KeyedWrite`]) and the same
//! [`Error`]s.
//!
//! ```no_run
//! use autumn_tower::client::{RawRequest, RetryClass};
//! use serde_json::json;
//!
//! # async fn demo(client: autumn_tower::Client) -> Result<(), autumn_tower::Error> {
//! let answer = client
//!     .raw(RawRequest::new("/v1/widgets.get", RetryClass::Read).body(json!({"widget_id": "w_1"})))
//!     .await?;
//! println!("{}", answer["name"]);
//! # Ok(()) }
//! ```

use bytes::Bytes;
use http::Method;
use serde_json::Value;

use super::{Client, Operation, Retry};
use crate::error::Error;
use crate::transport::HttpTransport;

/// How an operation may be repeated, as the operation table and [`RawRequest`] name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryClass {
    /// A read (`*.get`, `*.list`, `balances.check`, ...): retried on timeouts, dropped connections,
    /// 429, 502, 503 and 504.
    Read,
    /// A `*.preview_*` call: changes nothing, retried like a read.
    Preview,
    /// A write Autumn deduplicates by its `Idempotency-Key` (`balances.track`, `balances.batch_track`):
    /// always sent with one (yours, or one generated before the first attempt and reused), retried
    /// like a read; a retry that finds the key already used fails with
    /// [`ErrorKind::AlreadyApplied`](crate::ErrorKind::AlreadyApplied).
    KeyedWrite,
    /// Any other write: only repeated when the request was provably never sent.
    Write,
}

impl RetryClass {
    /// The client's internal retry rule for this class.
    pub(crate) const fn retry(self) -> Retry {
        match self {
            RetryClass::Read | RetryClass::Preview => Retry::Safe,
            RetryClass::KeyedWrite => Retry::Idempotent,
            RetryClass::Write => Retry::Never,
        }
    }
}

/// One call of [`Client::raw`]: a `POST` to `path` with an optional JSON body.
#[derive(Clone, Debug)]
pub struct RawRequest {
    path: String,
    retry: RetryClass,
    body: Option<Value>,
    idempotency_key: Option<String>,
}

impl RawRequest {
    /// A `POST` to `path` (under the base URL, e.g. `/v1/widgets.get`) without a body, retried as
    /// `retry` allows.
    pub fn new(path: impl Into<String>, retry: RetryClass) -> Self {
        RawRequest {
            path: path.into(),
            retry,
            body: None,
            idempotency_key: None,
        }
    }

    /// The JSON body, sent as-is.
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The `Idempotency-Key` header. A [`RetryClass::KeyedWrite`] call without one gets a random key;
    /// a [`RetryClass::Write`] call with one is retried like a keyed write.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

impl<T: HttpTransport> Client<T> {
    /// Calls any operation by path with a JSON body, for operations newer than this crate: same
    /// authentication, timeouts, retries (by the request's [`RetryClass`]) and errors as the typed
    /// methods. A 2xx answer is returned as JSON (`null` when its body is empty); any other status is
    /// an [`ErrorKind::Api`](crate::ErrorKind::Api) error.
    pub async fn raw(&self, request: RawRequest) -> Result<Value, Error> {
        if !request.path.starts_with('/') {
            return Err(Error::config(format!(
                "the raw request path {:?} must start with `/` (e.g. `/v1/widgets.get`)",
                request.path
            )));
        }
        let op = Operation {
            method: Method::POST,
            path: request.path.into(),
            retry: request.retry.retry(),
            api_version: None,
        };
        let body = match &request.body {
            Some(v) => Some(Bytes::from(serde_json::to_vec(v).map_err(Error::encode)?)),
            None => None,
        };
        let key = match (request.retry, request.idempotency_key) {
            (_, Some(k)) => Some(k),
            (RetryClass::KeyedWrite, None) => Some(uuid::Uuid::new_v4().to_string()),
            _ => None,
        };
        let raw = self.execute(op, body, key.as_deref()).await?;
        if raw.status.is_success() && raw.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        self.decode(raw)
    }
}
