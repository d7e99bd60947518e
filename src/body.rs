//! The response body of the [`AutumnService`](crate::AutumnService).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full};

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

/// The whole of `body`'s data (trailers dropped), as `http_body_util`'s `collect().await?.to_bytes()`
/// gives it, without its buffer list: data that arrives in one frame is that frame's own bytes (no
/// allocation, no copy for `Bytes`), and only data split over several frames is copied into one buffer.
///
/// Stops as soon as the body says it has ended (`is_end_stream`), without polling it for the end: a
/// hyper body whose declared length has arrived says so, and asking it for the end would wait for its
/// connection's task to run again (under load, behind every other ready connection).
pub(crate) async fn collect_bytes<B: Body>(body: B) -> Result<Bytes, B::Error> {
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    while !body.is_end_stream() {
        let Some(frame) = body.as_mut().frame().await else {
            break;
        };
        let Ok(mut data) = frame?.into_data() else {
            continue;
        };
        if !data.has_remaining() {
            continue;
        }
        if let Some(buf) = &mut joined {
            buf.put(data);
        } else if let Some(head) = first.take() {
            let more = data.remaining() + body.size_hint().lower() as usize;
            let mut buf = BytesMut::with_capacity(head.len() + more);
            buf.put(head);
            buf.put(data);
            joined = Some(buf);
        } else {
            first = Some(data.copy_to_bytes(data.remaining()));
        }
    }
    Ok(match joined {
        Some(buf) => buf.freeze(),
        None => first.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use bytes::Bytes;
    use http_body::Frame;
    use http_body_util::StreamBody;

    use super::{collect_bytes, ResponseBody};

    fn frames(
        items: Vec<Frame<Bytes>>,
    ) -> StreamBody<impl futures_core::Stream<Item = Result<Frame<Bytes>, Infallible>>> {
        StreamBody::new(tokio_stream::iter(items.into_iter().map(Ok)))
    }

    fn data(s: &'static str) -> Frame<Bytes> {
        Frame::data(Bytes::from_static(s.as_bytes()))
    }

    #[tokio::test]
    async fn one_frame_is_kept_and_several_are_joined_in_order() {
        let one = Bytes::from_static(b"{\"a\":1}");
        let got = collect_bytes(http_body_util::Full::new(one.clone()))
            .await
            .unwrap();
        assert_eq!(got, one);
        // The very same bytes: not a copy.
        assert_eq!(got.as_ptr(), one.as_ptr());

        let mut trailers = http::HeaderMap::new();
        trailers.insert("x-t", http::HeaderValue::from_static("1"));
        let body = frames(vec![
            data(""),
            data("{\"a\""),
            data(""),
            data(":1"),
            data(",\"b\":2}"),
            Frame::trailers(trailers),
        ]);
        assert_eq!(collect_bytes(body).await.unwrap(), "{\"a\":1,\"b\":2}");
        assert_eq!(collect_bytes(frames(vec![])).await.unwrap(), "");
        assert_eq!(collect_bytes(frames(vec![data("")])).await.unwrap(), "");
    }

    /// A body of known length: its frames, then it says it has ended and must not be polled again
    /// (a hyper body would then wait for its connection's task to run once more).
    struct Declared {
        frames: std::collections::VecDeque<&'static str>,
    }

    impl http_body::Body for Declared {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            let frame = self
                .frames
                .pop_front()
                .expect("polled after its declared end");
            std::task::Poll::Ready(Some(Ok(data(frame))))
        }

        fn is_end_stream(&self) -> bool {
            self.frames.is_empty()
        }

        fn size_hint(&self) -> http_body::SizeHint {
            http_body::SizeHint::with_exact(self.frames.iter().map(|f| f.len() as u64).sum())
        }
    }

    #[tokio::test]
    async fn a_body_that_says_it_ended_is_not_polled_again() {
        let body = |frames: &[&'static str]| Declared {
            frames: frames.iter().copied().collect(),
        };
        assert_eq!(collect_bytes(body(&[])).await.unwrap(), "");
        assert_eq!(collect_bytes(body(&["{}"])).await.unwrap(), "{}");
        assert_eq!(
            collect_bytes(body(&["{\"a\"", ":1}"])).await.unwrap(),
            "{\"a\":1}"
        );
        // The joined buffer is sized from the frames so far and what the body says is still to come
        // (here more than the second frame holds).
        assert_eq!(
            collect_bytes(body(&["{\"a\"", ":1", ",\"b\":22}"]))
                .await
                .unwrap(),
            "{\"a\":1,\"b\":22}"
        );
    }

    /// hyper reads `is_end_stream` and `size_hint` to frame the answer: a declared length
    /// (`content-length`) instead of chunks, and no poll of a body that has ended.
    #[tokio::test]
    async fn a_response_body_is_its_bytes_in_one_frame_of_declared_length() {
        use http_body::Body as _;
        use http_body_util::BodyExt as _;

        let mut body = ResponseBody::new(Bytes::from_static(b"{\"a\":1}"));
        assert!(!body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(7));
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "{\"a\":1}");
        assert!(body.is_end_stream());
        assert!(body.frame().await.is_none());

        let empty = ResponseBody::empty();
        assert!(empty.is_end_stream());
        assert_eq!(empty.size_hint().exact(), Some(0));
    }
}
