//! Bill the users of any hyper/tower server through [Autumn](https://useautumn.com).
//!
//! - [`AutumnService`]: a `tower::Service` serving the backend routes the `autumn-js` React client calls
//!   under `/api/autumn`, for the customer your [`Identify`] hook names. Mount it in axum, hyper, warp or
//!   tonic, or wrap an existing app with [`AutumnLayer`].
//! - [`Client`]: a typed client for the Autumn REST API (server-side `check`, `track`, `attach`, ...).
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
// On docs.rs (`--cfg docsrs`, nightly), items behind a cargo feature say which feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod authorize;
#[cfg(feature = "__bench")]
#[doc(hidden)]
pub mod bench;
#[cfg(feature = "blocking")]
pub mod blocking;
pub mod body;
pub mod client;
pub mod error;
pub mod fields;
pub mod future;
pub mod identify;
pub mod layer;
pub mod metering;
pub mod models;
#[cfg(feature = "offline")]
pub mod offline;
pub mod service;
pub mod transport;

mod json;
mod routes;
mod schema;

pub use client::{Client, ClientBuilder, RetryPolicy};
pub use error::{ApiError, Error, ErrorKind};
pub use identify::{CustomerDetails, Identify, Identity};
pub use layer::AutumnLayer;
pub use metering::MeterLayer;
pub use service::{AutumnService, AutumnServiceBuilder, Protocol};

/// The README's Rust examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
