//! The body of the `offline` fuzz target, shared with the stable replay test (`tests/fuzz_replay.rs`):
//! arbitrary API calls (an operation path and a JSON body) into one offline Autumn.
//!
//! An input is a sequence of at most [`MAX_CALLS`] calls separated by NUL bytes, each laid out as:
//!
//! ```text
//! <operation>\n<body>
//! ```
//!
//! sent as `POST /v1/<operation>` with the offline Autumn's key. An operation line that starts with
//! `!` is sent with another key (it must answer 401, or 501 for a path that is no operation); one that starts with `@` moves the clock forward
//! by the number of seconds after it (no call). Calls whose path `http` cannot represent are skipped.
//!
//! Invariants, for every call: no panic; an answer with a status and a JSON body (an object with a
//! string `message` and `code` on errors); an answer within [`MAX_CALL_TIME`] and at most
//! [`MAX_ANSWER_BYTES`] long, so no operation does unbounded work under the engine's lock (the lock
//! is held for the whole computation of an answer, so the time of a call bounds it).

use std::time::{Duration, Instant};

use autumn_tower::offline::OfflineAutumn;
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tower::ServiceExt;

/// The most calls one input makes.
pub const MAX_CALLS: usize = 16;

/// The longest one call may take (generous for debug builds and sanitizers on a busy machine; the
/// unbounded aggregation this guards against took seconds to minutes).
pub const MAX_CALL_TIME: Duration = Duration::from_secs(3);

/// The largest answer one call may give.
pub const MAX_ANSWER_BYTES: usize = 8 << 20;

/// One step of an input.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// `POST /v1/<op>` with `body`, with the offline Autumn's key (`right_key`) or another one.
    Call {
        op: String,
        body: Vec<u8>,
        right_key: bool,
    },
    /// Moves the clock forward by this many seconds.
    Advance(u64),
}

/// Splits an input into its steps (at most [`MAX_CALLS`]).
pub fn decode(data: &[u8]) -> Vec<Step> {
    data.split(|b| *b == 0)
        .take(MAX_CALLS)
        .map(|call| {
            let nl = call.iter().position(|b| *b == b'\n').unwrap_or(call.len());
            let op = String::from_utf8_lossy(&call[..nl]).into_owned();
            let body = call.get(nl + 1..).unwrap_or(&[]).to_vec();
            if let Some(secs) = op.strip_prefix('@') {
                return Step::Advance(secs.trim().parse().unwrap_or(0));
            }
            match op.strip_prefix('!') {
                Some(op) => Step::Call {
                    op: op.to_owned(),
                    body,
                    right_key: false,
                },
                None => Step::Call {
                    op,
                    body,
                    right_key: true,
                },
            }
        })
        .collect()
}

/// Runs one input through a fresh offline Autumn and checks every answer. Panics on a violated
/// invariant.
pub fn run(data: &[u8]) {
    thread_local! {
        static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
    }
    let autumn = OfflineAutumn::new();
    for step in decode(data) {
        let (op, body, right_key) = match step {
            Step::Advance(secs) => {
                autumn.advance(Duration::from_secs(secs));
                continue;
            }
            Step::Call {
                op,
                body,
                right_key,
            } => (op, body, right_key),
        };
        let key = if right_key {
            autumn.secret_key().to_owned()
        } else {
            format!("{}x", autumn.secret_key())
        };
        let Ok(request) = Request::post(format!("http://offline.invalid/v1/{op}"))
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
        else {
            continue;
        };
        let started = Instant::now();
        let (status, answer) = RT.with(|rt| {
            rt.block_on(async {
                let response = autumn.clone().oneshot(request).await.unwrap();
                let status = response.status();
                (
                    status,
                    response.into_body().collect().await.unwrap().to_bytes(),
                )
            })
        });
        let took = started.elapsed();
        assert!(
            took <= MAX_CALL_TIME,
            "POST /v1/{op} took {took:?} (at most {MAX_CALL_TIME:?})"
        );
        assert!(
            answer.len() <= MAX_ANSWER_BYTES,
            "POST /v1/{op} answered {} bytes",
            answer.len()
        );
        let value: Value = serde_json::from_slice(&answer)
            .unwrap_or_else(|e| panic!("POST /v1/{op} answered {status} and no JSON: {e}"));
        assert!(value.is_object(), "POST /v1/{op}: {value}");
        if !status.is_success() {
            assert!(
                value["message"].is_string()
                    && value["code"].as_str().is_some_and(|c| !c.is_empty()),
                "POST /v1/{op}: an error in another shape: {status} {value}"
            );
        }
        if !right_key {
            // Another key never reaches the engine: 401, or 501 for a path that is no operation.
            assert!(
                status == http::StatusCode::UNAUTHORIZED
                    || status == http::StatusCode::NOT_IMPLEMENTED,
                "POST /v1/{op} with another key answered {status} {value}"
            );
        }
    }
}
