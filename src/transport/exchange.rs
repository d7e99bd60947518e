//! One exchange with Autumn through a transport: send, then read the whole answer under a size limit.
//! The client's retry loop and the boxed [`Transport`](super::Transport) both use it.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::Limited;

use super::{is_connect_error, BoxError};
use crate::error::Error;

/// An upstream answer, whatever its status.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

/// One exchange with Autumn: `sent` (a transport's answer to come), then the whole answer's body,
/// at most `limit` bytes; and the answer's `Retry-After` in seconds, if any.
pub(crate) async fn exchange<B>(
    sent: impl Future<Output = Result<http::Response<B>, BoxError>>,
    limit: usize,
) -> Result<(RawResponse, Option<Duration>), Error>
where
    B: http_body::Body<Data = Bytes, Error = BoxError>,
{
    let resp = sent.await.map_err(classify)?;
    let (parts, body) = resp.into_parts();
    let retry_after = parts
        .headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    if let Some(len) = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > limit as u64 {
            return Err(Error::decode(
                parts.status,
                format!("the answer is {len} bytes, more than the {limit}-byte limit"),
            ));
        }
    }
    let body = crate::body::collect_bytes(Limited::new(body, limit))
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                Error::decode(
                    parts.status,
                    format!("the answer is larger than the {limit}-byte limit"),
                )
            } else {
                Error::transport(e)
            }
        })?;
    Ok((
        RawResponse {
            status: parts.status,
            body,
        },
        retry_after,
    ))
}

fn classify(e: BoxError) -> Error {
    if is_connect_error(&*e) {
        Error::connect(e)
    } else {
        Error::transport(e)
    }
}
