//! Named futures of the crate's services.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;

use crate::body::ResponseBody;

/// The future of [`AutumnService`](crate::AutumnService)'s `call`. It never fails: every error is a JSON
/// response.
pub struct ResponseFuture {
    inner: Pin<Box<dyn Future<Output = Response<ResponseBody>> + Send + 'static>>,
}

impl ResponseFuture {
    pub(crate) fn new(fut: impl Future<Output = Response<ResponseBody>> + Send + 'static) -> Self {
        ResponseFuture {
            inner: Box::pin(fut),
        }
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response<ResponseBody>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx).map(Ok)
    }
}
