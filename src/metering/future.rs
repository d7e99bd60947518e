//! [`ResponseFuture`]: the future of [`Meter`](super::Meter).

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::request::Parts;
use http::{Request, Response};
use http_body_util::Either;
use tower::Service;

use super::admit::{Admit, BoxFuture, Outcome, Ticket, Verdict};
use super::Usage;
use crate::body::ResponseBody;

/// Releases a held lock when the request ends without settling it: dropped (the client went away,
/// a timeout layer gave up) or panicked. The release runs on the current tokio runtime.
struct Guard {
    shared: Arc<dyn Admit>,
    lock_id: Option<String>,
}

impl Guard {
    fn fire(&mut self) {
        let Some(lock_id) = self.lock_id.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(self.shared.release(lock_id));
            }
            Err(_) => tracing::warn!(
                lock_id,
                "a metered request ended outside a tokio runtime: its reservation is released \
                 when the lock expires"
            ),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.fire();
    }
}

/// The settling call (track, confirm or release): spawned, so it completes even if the response
/// future is dropped while waiting for it; run in place when there is no tokio runtime.
enum Task {
    Spawned(tokio::task::JoinHandle<()>),
    Inline(BoxFuture<()>),
}

pin_project_lite::pin_project! {
    /// The future of [`Meter`](super::Meter): the check, the inner service's future (polled in
    /// place, not boxed), then the track or finalize.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B>,
        shared: Arc<dyn Admit>,
        guard: Guard,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<B>>,
    {
        Admit {
            admit: BoxFuture<(Parts, Verdict)>,
            call: Option<(S, B)>,
        },
        Inner {
            #[pin]
            fut: S::Future,
            ticket: Option<Ticket>,
        },
        Settle {
            task: Task,
            result: Option<Result<S::Response, S::Error>>,
        },
        Done,
    }
}

impl<S: Service<Request<B>>, B> ResponseFuture<S, B> {
    pub(crate) fn new(
        admit: BoxFuture<(Parts, Verdict)>,
        inner: S,
        body: B,
        shared: Arc<dyn Admit>,
        lock_id: Option<String>,
    ) -> Self {
        ResponseFuture {
            state: State::Admit {
                admit,
                call: Some((inner, body)),
            },
            guard: Guard {
                shared: shared.clone(),
                lock_id,
            },
            shared,
        }
    }
}

impl<S: Service<Request<B>>, B> fmt::Debug for ResponseFuture<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Admit { .. } => "Admit",
            State::Inner { .. } => "Inner",
            State::Settle { .. } => "Settle",
            State::Done => "Done",
        };
        f.debug_struct("metering::ResponseFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

/// The amount the handler reported, if it is usable.
fn usage<R>(response: &Response<R>) -> Option<f64> {
    let Usage(v) = *response.extensions().get::<Usage>()?;
    if v.is_finite() && v >= 0.0 {
        Some(v)
    } else {
        tracing::warn!(
            usage = v,
            "the handler reported a negative or non-finite Usage: the configured amount is tracked"
        );
        None
    }
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Output = Result<Response<Either<ResponseBody, ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Admit { admit, call } => {
                    let (parts, verdict) = ready!(admit.as_mut().poll(cx));
                    let ticket = match verdict {
                        Verdict::Reject(response) => {
                            // A refused check holds nothing.
                            this.guard.lock_id = None;
                            this.state.set(State::Done);
                            return Poll::Ready(Ok(response.map(Either::Left)));
                        }
                        Verdict::Proceed(ticket) => ticket,
                    };
                    this.guard.lock_id = ticket.lock_id.clone();
                    let Some((mut inner, body)) = call.take() else {
                        unreachable!("the inner service is called once, when the check is done")
                    };
                    let request = Request::from_parts(parts, body);
                    let fut = match catch_unwind(AssertUnwindSafe(|| inner.call(request))) {
                        Ok(fut) => fut,
                        Err(panic) => {
                            this.guard.fire();
                            this.state.set(State::Done);
                            resume_unwind(panic)
                        }
                    };
                    this.state.set(State::Inner {
                        fut,
                        ticket: Some(ticket),
                    });
                }
                StateProj::Inner { fut, ticket } => {
                    let result = match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
                        Ok(Poll::Pending) => return Poll::Pending,
                        Ok(Poll::Ready(result)) => result,
                        Err(panic) => {
                            this.guard.fire();
                            this.state.set(State::Done);
                            resume_unwind(panic)
                        }
                    };
                    let Some(ticket) = ticket.take() else {
                        unreachable!("the inner future completes once")
                    };
                    // From here the settling call owns the lock.
                    this.guard.lock_id = None;
                    let outcome = match &result {
                        Ok(response) if response.status().is_success() => {
                            Outcome::Succeeded(usage(response))
                        }
                        _ => Outcome::Failed,
                    };
                    if !ticket.has_work(matches!(outcome, Outcome::Succeeded(_))) {
                        this.state.set(State::Done);
                        return Poll::Ready(result.map(|r| r.map(Either::Right)));
                    }
                    let settle = this.shared.settle(ticket, outcome);
                    let task = match tokio::runtime::Handle::try_current() {
                        Ok(handle) => Task::Spawned(handle.spawn(settle)),
                        Err(_) => Task::Inline(settle),
                    };
                    this.state.set(State::Settle {
                        task,
                        result: Some(result),
                    });
                }
                StateProj::Settle { task, result } => {
                    match task {
                        // A panic inside the settling call is tracing's or the transport's; the
                        // handler's answer stands either way.
                        Task::Spawned(handle) => drop(ready!(Pin::new(handle).poll(cx))),
                        Task::Inline(fut) => ready!(fut.as_mut().poll(cx)),
                    }
                    let Some(result) = result.take() else {
                        unreachable!("the answer is handed out once")
                    };
                    this.state.set(State::Done);
                    return Poll::Ready(result.map(|r| r.map(Either::Right)));
                }
                StateProj::Done => panic!("metering::ResponseFuture polled after it completed"),
            }
        }
    }
}
