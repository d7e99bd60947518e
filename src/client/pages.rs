//! Streams over the pages of cursor-paginated lists (`customers.list`, `entities.list`,
//! `events.list`, `invoices.list`): `client.customers().list_pages(&params)`.
//!
//! ```no_run
//! use std::future::poll_fn;
//! use std::pin::Pin;
//!
//! use autumn_tower::models::ListCustomersParams;
//! use futures_core::Stream;
//!
//! # async fn demo(client: autumn_tower::Client) -> Result<(), autumn_tower::Error> {
//! let mut pages = client.customers().list_pages(&ListCustomersParams::new().limit(100));
//! while let Some(page) = poll_fn(|cx| Pin::new(&mut pages).poll_next(cx)).await {
//!     for customer in page?.list {
//!         println!("{:?}", customer.id);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! (With `futures-util` or `tokio-stream`, `pages.next().await` does the same.)

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use super::Client;
use crate::error::Error;

/// The params of a cursor-paginated list: where the next page starts.
pub trait CursorParams: Clone {
    /// Sets `start_cursor`.
    fn set_start_cursor(&mut self, cursor: String);
}

/// A page of a cursor-paginated list: where the next one starts, if there is one.
pub trait CursorPage {
    /// `next_cursor`; `None` (or empty) on the last page.
    fn next_cursor(&self) -> Option<&str>;
}

/// One page's call: answers the params back with the page.
pub(crate) type PageFuture<P, R> = Pin<Box<dyn Future<Output = (P, Result<R, Error>)> + Send>>;

/// A [`Stream`] of the pages of a list: one call per page, each with the previous answer's
/// `next_cursor` as `start_cursor`, until a page has none (or repeats the cursor it was asked for).
/// An error is the stream's last item.
#[must_use = "streams do nothing unless polled"]
pub struct Pages<T, P, R> {
    client: Client<T>,
    params: Option<P>,
    cursor: Option<String>,
    fetch: fn(Client<T>, P) -> PageFuture<P, R>,
    pending: Option<PageFuture<P, R>>,
}

impl<T, P, R> Pages<T, P, R> {
    pub(crate) fn new(
        client: Client<T>,
        params: P,
        fetch: fn(Client<T>, P) -> PageFuture<P, R>,
    ) -> Self {
        Pages {
            client,
            params: Some(params),
            cursor: None,
            fetch,
            pending: None,
        }
    }
}

impl<T, P: fmt::Debug, R> fmt::Debug for Pages<T, P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("next_params", &self.params)
            .field("in_flight", &self.pending.is_some())
            .finish()
    }
}

impl<T, P: CursorParams + Unpin, R: CursorPage> Stream for Pages<T, P, R> {
    type Item = Result<R, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.pending.is_none() {
            let Some(params) = this.params.take() else {
                return Poll::Ready(None);
            };
            this.pending = Some((this.fetch)(this.client.clone(), params));
        }
        let pending = this.pending.as_mut().expect("a call in flight");
        let (mut params, result) = ready!(pending.as_mut().poll(cx));
        this.pending = None;
        if let Ok(page) = &result {
            match page.next_cursor().filter(|c| !c.is_empty()) {
                Some(next) if this.cursor.as_deref() != Some(next) => {
                    this.cursor = Some(next.to_owned());
                    params.set_start_cursor(next.to_owned());
                    this.params = Some(params);
                }
                _ => {}
            }
        }
        Poll::Ready(Some(result))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let more = usize::from(self.params.is_some() || self.pending.is_some());
        (more, if more == 0 { Some(0) } else { None })
    }
}
