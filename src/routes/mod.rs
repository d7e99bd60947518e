//! The browser-facing route tables, one per protocol, and what they share.
//!
//! - [`current`]: autumn-js >= 1.0 (`POST <prefix>/<rpcName>`), the default.
//! - [`legacy`]: autumn-js 0.x and the Python SDK's routes (`POST <prefix>/attach`, `GET <prefix>/products`,
//!   ...), calling the v1.2 API.
//!
//! Each table maps a browser route to one Autumn API call; adding a route is one line in its table plus its
//! types.
//!
//! Routes are pure: a route turns (identity, browser body) into an [`Upstream`] call, and Autumn's answer
//! into the browser's, without any I/O. [`AutumnService`](crate::AutumnService) (`src/service.rs`) does the
//! reading, identifying, sending and answering around them, in the order each protocol's module gives.

// Early answers travel as `Err(Response)`: a route's plan is the upstream call or the answer to give
// instead. They are cold paths, not worth boxing.
#![allow(clippy::result_large_err)]

pub(crate) mod current;
pub(crate) mod legacy;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};

use crate::body::ResponseBody;
use crate::client::Operation;
use crate::error::{Error, ErrorKind};

/// The Autumn API call a browser request becomes: the operation (method, path, retry rule, API version)
/// and its encoded JSON body.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub(crate) operation: Operation,
    pub(crate) body: Option<Bytes>,
}

/// Makes a string taken from Autumn's answer safe to pass on: the secret key, and anything shaped like a
/// key or a bearer token, removed ([`Client::scrub`](crate::Client)).
pub(crate) type Scrub<'a> = &'a dyn Fn(&str) -> String;

/// Encodes an upstream body; 500 in the (unreachable for `Value`s) case it cannot be.
pub(crate) fn encode(value: &impl serde::Serialize) -> Result<Bytes, Response<ResponseBody>> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|_| encode_failed())
}

/// The 500 for an upstream body that could not be encoded.
pub(crate) fn encode_failed() -> Response<ResponseBody> {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "the request could not be encoded",
    )
}

/// The browser's answer when a call to Autumn failed without an answer (timeout, connection, decoding).
pub(crate) fn upstream_failure(e: &Error) -> Response<ResponseBody> {
    tracing::warn!(error = %e, "Autumn call failed");
    match e.kind() {
        ErrorKind::Timeout => error(
            StatusCode::GATEWAY_TIMEOUT,
            "upstream_timeout",
            "Autumn did not answer in time",
        ),
        ErrorKind::Connect | ErrorKind::Transport => error(
            StatusCode::BAD_GATEWAY,
            "upstream_unavailable",
            "Autumn could not be reached",
        ),
        ErrorKind::Decode => error(
            StatusCode::BAD_GATEWAY,
            "invalid_upstream_response",
            "Autumn answered with a body that could not be read",
        ),
        _ => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the call to Autumn could not be made",
        ),
    }
}

/// The path segments after the prefix, empty segments (doubled or trailing slashes) skipped.
#[derive(Debug)]
pub(crate) struct Segments<'a> {
    items: [&'a str; 4],
    len: usize,
}

impl<'a> Segments<'a> {
    /// Splits `path`, strips `prefix` (given as segments) when the path starts with it, and returns `None`
    /// when more than four segments remain (no route has that many).
    pub(crate) fn parse(path: &'a str, prefix: &[String]) -> Option<Self> {
        let mut it = path.split('/').filter(|s| !s.is_empty()).peekable();
        let mut rest = path.split('/').filter(|s| !s.is_empty());
        let mut matched = !prefix.is_empty();
        for p in prefix {
            match rest.next() {
                Some(s) if s == p => {}
                _ => {
                    matched = false;
                    break;
                }
            }
        }
        if matched {
            for _ in prefix {
                it.next();
            }
        }
        let mut items = [""; 4];
        let mut len = 0;
        for s in it {
            if len == 4 {
                return None;
            }
            items[len] = s;
            len += 1;
        }
        Some(Segments { items, len })
    }

    pub(crate) fn as_slice(&self) -> &[&'a str] {
        &self.items[..self.len]
    }
}

/// Splits a configured prefix such as `/api/autumn` into its segments.
pub(crate) fn prefix_segments(prefix: &str) -> Vec<String> {
    prefix
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// True when `path` lies under `prefix` (segment-wise, so `/api/autumnx` is not under `/api/autumn`).
pub(crate) fn is_under(path: &str, prefix: &[String]) -> bool {
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    prefix.iter().all(|p| segs.next() == Some(p.as_str()))
}

/// A JSON response with `content-type: application/json`.
pub(crate) fn json(status: StatusCode, body: Bytes) -> Response<ResponseBody> {
    let mut resp = Response::new(ResponseBody::new(body));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// The error shape autumn-js answers with: `{"message", "code", "statusCode"}`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response<ResponseBody> {
    #[derive(serde::Serialize)]
    struct ErrorBody<'a> {
        message: &'a str,
        code: &'a str,
        #[serde(rename = "statusCode")]
        status_code: u16,
    }
    let body = serde_json::to_vec(&ErrorBody {
        message,
        code,
        status_code: status.as_u16(),
    })
    .unwrap_or_default();
    json(status, Bytes::from(body))
}

/// 404 for anything that is not a route.
pub(crate) fn not_found() -> Response<ResponseBody> {
    json(
        StatusCode::NOT_FOUND,
        Bytes::from_static(br#"{"message":"Not found","code":"not_found","statusCode":404}"#),
    )
}

/// 405 for a known route called with the wrong method, with the `Allow` header.
pub(crate) fn method_not_allowed(allow: &'static str) -> Response<ResponseBody> {
    let mut resp = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        &format!("this route only accepts {allow}"),
    );
    resp.headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs<'a>(path: &'a str, prefix: &[String]) -> Option<Vec<&'a str>> {
        Segments::parse(path, prefix).map(|s| s.as_slice().to_vec())
    }

    #[test]
    fn prefix_is_optional_and_slashes_are_forgiven() {
        let p = prefix_segments("/api/autumn/");
        assert_eq!(segs("/api/autumn/attach", &p), Some(vec!["attach"]));
        assert_eq!(segs("/attach", &p), Some(vec!["attach"]));
        assert_eq!(segs("//api//autumn/attach/", &p), Some(vec!["attach"]));
        assert_eq!(
            segs("/API/autumn/attach", &p),
            Some(vec!["API", "autumn", "attach"])
        );
        assert_eq!(segs("/a/b/c/d/e", &p), None);
        assert!(is_under("/api/autumn/x", &p));
        assert!(!is_under("/api/autumnx/x", &p));
        assert!(!is_under("/api", &p));
    }
}
