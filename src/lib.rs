//! Bill the users of any hyper/tower server through [Autumn](https://useautumn.com).
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod client;
pub mod error;
pub mod models;
pub mod offline;
pub mod transport;

mod schema;

pub use client::{Client, ClientBuilder, RetryPolicy};
pub use error::{ApiError, Error, ErrorKind};
