//! The test kit's one fault vocabulary: what a fake Autumn does with a request instead of (or before)
//! answering it normally.
//!
//! All three fakes speak it:
//!
//! - `support::fake_autumn::FakeAutumn` (hyper, driven by the OpenAPI spec), per path with `script`, and
//!   over HTTP as JSON tagged by `kind` (`POST /__fake/script`), e.g. `{"kind": "status", "status": 402,
//!   "body": {...}}`, `{"kind": "raw", "status": 200, "body": "<html>"}`, `{"kind": "delay", "ms": 3000}`,
//!   `{"kind": "reset"}`, `{"kind": "reset_mid_body"}`;
//! - `tests/fault_server` (raw TCP), per request with `set` or `set_policy`;
//! - `support::memory_autumn::MemoryAutumn` (an in-memory transport, no sockets), per path with `answer`.
//!   It hands over whole responses, so it cannot cut a body short: [`Fault::ResetMidBody`] and
//!   [`Fault::CutShort`] panic there.
//!
//! "Normally" means each fake's success answer for the path.
//!
//! Test files that do not use the whole support kit get this file through `tests/fault_server`.

#![allow(dead_code)]

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A load balancer's error page, for the faults that answer HTML.
pub const GATEWAY_HTML: &str =
    "<html><head><title>502 Bad Gateway</title></head><body>upstream went away</body></html>";

/// Autumn's answer to too many requests (the body of [`Fault::RateLimited`]).
pub const RATE_LIMITED_BODY: &str =
    r#"{"message":"Too many requests, slow down","code":"rate_limit_exceeded"}"#;

/// What a fake Autumn does with one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer normally.
    Ok,
    /// Answer `status` with this JSON body (`application/json`).
    Status {
        /// HTTP status code.
        status: u16,
        /// JSON body.
        body: Value,
    },
    /// Answer `status` with this body verbatim.
    Raw {
        /// HTTP status code.
        status: u16,
        /// Body bytes, as text.
        body: String,
        /// The `content-type` header; `None`: no such header. Over HTTP an absent `content_type` means
        /// `text/html`.
        #[serde(default = "text_html")]
        content_type: Option<String>,
    },
    /// Answer the normal body, labelled with this content type instead of JSON's.
    Mislabelled {
        /// The `content-type` header.
        content_type: String,
    },
    /// Answer 429 with `Retry-After: <retry_after>` and [`RATE_LIMITED_BODY`].
    RateLimited {
        /// Seconds, as the `Retry-After` header says them.
        retry_after: u64,
    },
    /// Wait this long, then answer normally.
    Delay {
        /// Milliseconds to wait before answering.
        ms: u64,
    },
    /// Never answer (the connection stays open).
    Hang,
    /// Reset the connection (RST) after reading the request, before any response byte. In memory: the
    /// call fails with `ConnectionReset`.
    Reset,
    /// Send the status line, headers (a `content-length` covering at least the whole normal body) and the
    /// first half of the normal body, then reset the connection.
    ResetMidBody,
    /// Close the connection cleanly (FIN) without answering. In memory: the call fails with
    /// `UnexpectedEof`.
    Close,
    /// Answer 200 whose `content-length` promises more than the normal body that is sent, then close the
    /// connection cleanly.
    CutShort,
    /// Answer 200 with `bytes` bytes of a JSON array of zeros (`[0,0,...`), with that `content-length` or
    /// chunked (no declared length).
    Huge {
        /// Body size.
        bytes: usize,
        /// Chunked transfer encoding instead of a `content-length`.
        chunked: bool,
    },
}

fn text_html() -> Option<String> {
    Some("text/html".to_owned())
}

impl Fault {
    /// `status` with `body` verbatim, labelled `content_type`.
    pub fn raw(status: u16, content_type: &str, body: impl Into<String>) -> Fault {
        Fault::Raw {
            status,
            body: body.into(),
            content_type: Some(content_type.to_owned()),
        }
    }

    /// `status` with Autumn's JSON error body: `{"message": "upstream says <status>", "code":
    /// "upstream_<status>"}`.
    pub fn autumn_error(status: u16) -> Fault {
        Fault::Status {
            status,
            body: serde_json::json!({
                "message": format!("upstream says {status}"),
                "code": format!("upstream_{status}"),
            }),
        }
    }

    /// `status` with a load balancer's HTML page ([`GATEWAY_HTML`], `text/html`).
    pub fn gateway_page(status: u16) -> Fault {
        Fault::raw(status, "text/html", GATEWAY_HTML)
    }

    /// Waits `delay`, then answers normally.
    pub fn delay(delay: Duration) -> Fault {
        Fault::Delay {
            ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Every misbehaviour of a server on the network (not `Ok`, not `Hang`), with delays scaled by `slow`.
    pub fn all(slow: Duration) -> Vec<Fault> {
        vec![
            Fault::Reset,
            Fault::ResetMidBody,
            Fault::Close,
            Fault::delay(slow),
            Fault::RateLimited { retry_after: 1 },
            Fault::autumn_error(500),
            Fault::autumn_error(502),
            Fault::autumn_error(503),
            Fault::autumn_error(504),
            Fault::gateway_page(502),
            // Not JSON, labelled JSON.
            Fault::raw(200, "application/json", "{\"list\": [tru"),
            Fault::CutShort,
            Fault::Huge {
                bytes: 50 * 1024 * 1024,
                chunked: false,
            },
            Fault::Huge {
                bytes: 50 * 1024 * 1024,
                chunked: true,
            },
            // A 200 that is an HTML page.
            Fault::raw(200, "text/html; charset=utf-8", GATEWAY_HTML),
            // Valid JSON, labelled plain text.
            Fault::Mislabelled {
                content_type: "text/plain".to_owned(),
            },
        ]
    }

    /// The body of [`Fault::Huge`] in one piece.
    pub fn filler(bytes: usize) -> Vec<u8> {
        Fault::filler_blocks(bytes, 64 * 1024).flatten().collect()
    }

    /// A JSON array of zeros (`[0,0,...`) of `bytes` bytes, in blocks of at most `block` bytes (the
    /// body of [`Fault::Huge`]).
    pub fn filler_blocks(bytes: usize, block: usize) -> impl Iterator<Item = Vec<u8>> {
        let mut first = Vec::with_capacity(block);
        first.push(b'[');
        while first.len() < block {
            first.extend_from_slice(b"0,");
        }
        first.truncate(block);
        let mut rest = first.clone();
        if let Some(b) = rest.first_mut() {
            *b = b'0';
        }
        let mut sent = 0;
        std::iter::from_fn(move || {
            if sent >= bytes {
                return None;
            }
            let len = block.min(bytes - sent);
            let out = if sent == 0 { &first } else { &rest };
            sent += len;
            Some(out[..len].to_vec())
        })
    }
}
