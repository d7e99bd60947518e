//! The response body of the [`AutumnService`](crate::AutumnService).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;

/// The body of every response the [`AutumnService`](crate::AutumnService) produces: a complete JSON document
/// (or nothing, for 204). Opaque so its representation can change without breaking you.
#[derive(Debug, Default)]
pub struct ResponseBody {
    inner: Full<Bytes>,
}

impl ResponseBody {
    pub(crate) fn new(bytes: Bytes) -> Self {
        ResponseBody {
            inner: Full::new(bytes),
        }
    }

    pub(crate) fn empty() -> Self {
        ResponseBody::default()
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
