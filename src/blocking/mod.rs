//! A blocking client for code without an async runtime (feature `blocking`).
//!
//! Like reqwest's blocking client, it runs a small current-thread tokio runtime on a thread of its
//! own (named `autumn-blocking`) and hands every call to it over a channel, so it works from a plain
//! `fn main`, and can be created and dropped anywhere, inside an async runtime too: the runtime is
//! shut down on its own thread when the last clone is dropped (the drop waits for that thread).
//!
//! *Calling* it from inside an async runtime would block one of that runtime's threads, so it returns
//! an [`ErrorKind::BlockingInAsyncContext`](crate::ErrorKind::BlockingInAsyncContext) error instead of
//! calling (it never panics). tokio does not tell its `spawn_blocking` threads apart from its
//! workers, so they count as inside the runtime too: use the async client there, or call the
//! blocking one from a thread of your own (`std::thread::spawn`).
//!
//! It has the async client's resource handles and methods, with the same parameter and answer types
//! (`client.customers().get(..)`, `client.billing().attach(..)`, ...), plus shortcuts for the most
//! common calls ([`Client::check`], [`Client::track`], ...), [`Client::raw`] for operations newer
//! than the crate and [`Client::run`] for anything else.
//!
//! ```no_run
//! use autumn_tower::models::{CheckParams, GetCustomerParams, TrackParams};
//!
//! fn main() -> Result<(), autumn_tower::Error> {
//!     let client = autumn_tower::blocking::Client::from_env()?;
//!     if client.balances().check(&CheckParams::new("user_123", "messages"))?.allowed {
//!         client.balances().track(&TrackParams::new("user_123", "messages", 1.0))?;
//!     }
//!     let customer = client.customers().get(&GetCustomerParams::new("user_123"))?;
//!     println!("{} subscription(s)", customer.subscriptions.len());
//!     Ok(())
//! }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::mpsc;

use crate::client::{CursorPage, CursorParams, RawRequest};
use crate::error::Error;
use crate::models::*;
use crate::ClientBuilder;

mod generated;

pub use self::generated::{
    Balances, Billing, Customers, Entities, Events, Features, Invoices, Keys, Licenses, Plans,
    Platform, ReferralPrograms, Referrals, Rewards,
};

/// A call handed to the runtime thread: it gets the async client and returns the future to run.
type Job = Box<dyn FnOnce(crate::Client) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// The runtime thread and the channel to it; dropping the last one stops the thread.
struct Worker {
    jobs: Option<mpsc::UnboundedSender<Job>>,
    thread: Option<JoinHandle<()>>,
    description: String,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; it then drops its runtime on its own thread.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// The blocking Autumn client. Cheap to clone: clones share one runtime thread.
#[derive(Clone)]
pub struct Client {
    worker: Arc<Worker>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("autumn_tower::blocking::Client")
            .field("client", &self.worker.description)
            .finish()
    }
}

fn stopped() -> Error {
    Error::config("the blocking client's runtime thread has stopped")
}

impl Client {
    /// Builds from an async client builder (secret key, base URL, timeouts, transport...). Starts the
    /// runtime thread and builds the async client on it; works inside an async runtime too.
    pub fn from_builder(builder: ClientBuilder) -> Result<Self, Error> {
        let (jobs, mut rx) = mpsc::unbounded_channel::<Job>();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Result<String, Error>>(1);
        let thread = std::thread::Builder::new()
            .name("autumn-blocking".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(Error::config(format!(
                            "could not start the blocking runtime: {e}"
                        ))));
                        return;
                    }
                };
                // The default transport's pool is created inside the runtime it will run on.
                let client = {
                    let _guard = runtime.enter();
                    builder.build()
                };
                let client = match client {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(format!("{c:?}")));
                        c
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    while let Some(job) = rx.recv().await {
                        // Calls of several clones (several threads) run concurrently.
                        tokio::spawn(job(client.clone()));
                    }
                });
            })
            .map_err(|e| {
                Error::config(format!("could not start the blocking runtime thread: {e}"))
            })?;
        let description = match ready_rx.recv() {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(stopped());
            }
        };
        Ok(Client {
            worker: Arc::new(Worker {
                jobs: Some(jobs),
                thread: Some(thread),
                description,
            }),
        })
    }

    /// A client with `secret_key` and the defaults.
    pub fn new(secret_key: impl Into<String>) -> Result<Self, Error> {
        Client::from_builder(crate::Client::builder().secret_key(secret_key))
    }

    /// A client configured from `AUTUMN_SECRET_KEY` and `AUTUMN_API_URL`.
    pub fn from_env() -> Result<Self, Error> {
        Client::from_builder(crate::Client::builder())
    }

    /// Runs any call of the async client on the runtime thread and waits for it, e.g.
    /// `client.run(move |c| async move { c.legacy().attach(&params).await })` (the closure owns
    /// what it uses: it runs on another thread).
    ///
    /// From inside an async runtime it returns an
    /// [`ErrorKind::BlockingInAsyncContext`](crate::ErrorKind::BlockingInAsyncContext) error
    /// without calling.
    pub fn run<F, Fut, R>(&self, f: F) -> Result<R, Error>
    where
        F: FnOnce(crate::Client) -> Fut + Send + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: Send + 'static,
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::blocking_in_async());
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<R, Error>>(1);
        let job: Job = Box::new(move |client| {
            Box::pin(async move {
                let _ = tx.send(f(client).await);
            })
        });
        let jobs = self.worker.jobs.as_ref().ok_or_else(stopped)?;
        jobs.send(job).map_err(|_| stopped())?;
        rx.recv().map_err(|_| stopped())?
    }

    /// Calls any operation by path with a JSON body; see [`crate::Client::raw`].
    pub fn raw(&self, request: RawRequest) -> Result<serde_json::Value, Error> {
        self.run(move |c| async move { c.raw(request).await })
    }

    /// `balances.check` (shortcut for `balances().check(..)`).
    pub fn check(&self, params: &CheckParams) -> Result<CheckResponse, Error> {
        self.balances().check(params)
    }

    /// `balances.track`, with an idempotency key as the async client (shortcut for `balances().track(..)`).
    pub fn track(&self, params: &TrackParams) -> Result<TrackResponse, Error> {
        self.balances().track(params)
    }

    /// `customers.get_or_create` (shortcut for `customers().get_or_create(..)`).
    pub fn get_or_create_customer(
        &self,
        params: &GetOrCreateCustomerParams,
    ) -> Result<Customer, Error> {
        self.customers().get_or_create(params)
    }

    /// `billing.attach`, never retried once it may have reached Autumn (shortcut for `billing().attach(..)`).
    pub fn attach(&self, params: &AttachParams) -> Result<BillingResponse, Error> {
        self.billing().attach(params)
    }
}

/// An iterator over the pages of a cursor-paginated list (`client.customers().list_pages(..)`, ...):
/// one blocking call per `next()`, each with the previous answer's `next_cursor` as `start_cursor`,
/// until a page has none (or repeats the cursor it was asked for). An error is the last item.
pub struct Pages<'a, P, R> {
    client: &'a Client,
    params: Option<P>,
    cursor: Option<String>,
    fetch: fn(&Client, &P) -> Result<R, Error>,
}

impl<'a, P, R> Pages<'a, P, R> {
    fn new(client: &'a Client, params: P, fetch: fn(&Client, &P) -> Result<R, Error>) -> Self {
        Pages {
            client,
            params: Some(params),
            cursor: None,
            fetch,
        }
    }
}

impl<P: fmt::Debug, R> fmt::Debug for Pages<'_, P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("next_params", &self.params)
            .finish()
    }
}

impl<P: CursorParams, R: CursorPage> Iterator for Pages<'_, P, R> {
    type Item = Result<R, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut params = self.params.take()?;
        let page = (self.fetch)(self.client, &params);
        if let Ok(page) = &page {
            match page.next_cursor().filter(|c| !c.is_empty()) {
                Some(next) if self.cursor.as_deref() != Some(next) => {
                    self.cursor = Some(next.to_owned());
                    params.set_start_cursor(next.to_owned());
                    self.params = Some(params);
                }
                _ => {}
            }
        }
        Some(page)
    }
}

impl Balances<'_> {
    /// `balances.batch_track` (with `idempotency_key`, or a generated one reused on retries); see
    /// [`crate::client::Balances::batch_track`].
    pub fn batch_track(
        &self,
        events: &[TrackParams],
        idempotency_key: Option<&str>,
    ) -> Result<BatchTrackResponse, Error> {
        let events = events.to_vec();
        let key = idempotency_key.map(str::to_owned);
        self.client
            .run(move |c| async move { c.balances().batch_track(&events, key.as_deref()).await })
    }
}

impl Keys<'_> {
    /// `keys.refresh`, authenticated with `refresh_token`; see [`crate::client::Keys::refresh`].
    pub fn refresh(
        &self,
        params: &RefreshKeyParams,
        refresh_token: &str,
    ) -> Result<CustomerToken, Error> {
        let params = params.clone();
        let token = refresh_token.to_owned();
        self.client
            .run(move |c| async move { c.keys().refresh(&params, &token).await })
    }
}
