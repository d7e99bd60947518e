//! A blocking client for code without an async runtime (feature `blocking`).
//!
//! Like reqwest's blocking client, it owns a small current-thread tokio runtime and drives the async
//! [`Client`](crate::Client) on it, so it works from a plain `fn main`. Called from inside an async runtime
//! it returns an [`ErrorKind::BlockingInAsyncContext`](crate::ErrorKind::BlockingInAsyncContext) error
//! instead of panicking: use the async client there, or `tokio::task::spawn_blocking`.
//!
//! ```no_run
//! use autumn::models::{CheckParams, TrackParams};
//!
//! fn main() -> Result<(), autumn::Error> {
//!     let client = autumn::blocking::Client::from_env()?;
//!     if client.check(&CheckParams::new("user_123", "messages"))?.allowed {
//!         client.track(&TrackParams::new("user_123", "messages", 1.0))?;
//!     }
//!     Ok(())
//! }
//! ```

use std::future::Future;
use std::sync::Arc;

use crate::error::Error;
use crate::models::{
    AttachParams, BillingResponse, CheckParams, CheckResponse, Customer, GetOrCreateCustomerParams,
    TrackParams, TrackResponse,
};
use crate::ClientBuilder;

/// The blocking Autumn client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: crate::Client,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl Client {
    /// Builds from an async client builder (secret key, base URL, timeouts, transport...).
    pub fn from_builder(builder: ClientBuilder) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::config(format!("could not start the blocking runtime: {e}")))?;
        // The default transport's pool is created inside the runtime it will run on.
        let _guard = runtime.enter();
        let inner = builder.build()?;
        Ok(Client {
            inner,
            runtime: Arc::new(runtime),
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

    /// Runs any call of the async client to completion, e.g.
    /// `client.run(|c| async move { c.plans().list(&params).await })`.
    pub fn run<F, Fut, R>(&self, f: F) -> Result<R, Error>
    where
        F: FnOnce(crate::Client) -> Fut,
        Fut: Future<Output = Result<R, Error>>,
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::blocking_in_async());
        }
        self.runtime.block_on(f(self.inner.clone()))
    }

    /// `balances.check`.
    pub fn check(&self, params: &CheckParams) -> Result<CheckResponse, Error> {
        self.run(|c| async move { c.balances().check(params).await })
    }

    /// `balances.track` (with an idempotency key, as the async client).
    pub fn track(&self, params: &TrackParams) -> Result<TrackResponse, Error> {
        self.run(|c| async move { c.balances().track(params).await })
    }

    /// `customers.get_or_create`.
    pub fn get_or_create_customer(
        &self,
        params: &GetOrCreateCustomerParams,
    ) -> Result<Customer, Error> {
        self.run(|c| async move { c.customers().get_or_create(params).await })
    }

    /// `billing.attach` (never retried once it may have reached Autumn).
    pub fn attach(&self, params: &AttachParams) -> Result<BillingResponse, Error> {
        self.run(|c| async move { c.billing().attach(params).await })
    }
}
