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
        // One pass: segments are kept as they come; while they follow the prefix they may still be
        // dropped, which happens when the last of the prefix's has matched.
        let mut items = [""; 4];
        let mut kept = 0;
        // How many of the prefix's segments the path has matched; `None` once it cannot start with it.
        let mut matched = (!prefix.is_empty()).then_some(0);
        for s in path.split('/').filter(|s| !s.is_empty()) {
            if let Some(n) = matched {
                if prefix[n] == s {
                    if n + 1 == prefix.len() {
                        matched = None;
                        kept = 0;
                        continue;
                    }
                    matched = Some(n + 1);
                } else {
                    matched = None;
                }
            }
            if kept < 4 {
                items[kept] = s;
            } else if matched.is_none() {
                return None;
            }
            kept += 1;
        }
        // A path that ended inside the prefix keeps every segment.
        (kept <= 4).then_some(Segments { items, len: kept })
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

    /// The one-pass split as the two-pass one it replaced: strip the prefix when every one of its
    /// segments starts the path, keep every segment otherwise, at most four.
    fn two_pass<'a>(path: &'a str, prefix: &[String]) -> Option<Vec<&'a str>> {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let starts = !prefix.is_empty()
            && segs.len() >= prefix.len()
            && prefix.iter().zip(&segs).all(|(p, s)| p == s);
        let rest = if starts {
            &segs[prefix.len()..]
        } else {
            &segs[..]
        };
        (rest.len() <= 4).then(|| rest.to_vec())
    }

    #[test]
    fn the_split_agrees_with_the_two_pass_split() {
        let words = ["", "api", "autumn", "a", "x"];
        let prefixes = [
            "",
            "/api",
            "/api/autumn",
            "/a/a/a/a/a",
            "/a/a/a/a/a/x",
            "/x/x",
        ];
        // Every path of up to six segments from `words` (an empty one is a doubled slash).
        let mut paths = vec![String::new()];
        let mut last = paths.clone();
        for _ in 0..6 {
            last = last
                .iter()
                .flat_map(|p| words.iter().map(move |w| format!("{p}/{w}")))
                .collect();
            paths.extend(last.iter().cloned());
        }
        for prefix in prefixes {
            let prefix = prefix_segments(prefix);
            for path in &paths {
                assert_eq!(
                    segs(path, &prefix),
                    two_pass(path, &prefix),
                    "{path} {prefix:?}"
                );
            }
        }
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
