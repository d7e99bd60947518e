//! The identify hook the integration tests share: the caller is whoever the request's headers say.
//!
//! `x-customer-id` names the customer (absent or empty: anonymous), `x-customer-name` and `x-customer-email`
//! its details, and `x-identify-fails` makes the hook fail (a session store that is down). A real app reads
//! its session here; tests need to be anyone they like.
//!
//! Test files that do not use the whole support kit include this file alone with
//! `#[path = "support/identify.rs"] mod identify;`.

#![allow(dead_code)]

use std::future::{ready, Ready};

use autumn_tower::{CustomerDetails, Identity};
use http::request::Parts;

/// The hook's type, as a plain function pointer (a service built with it is nameable).
pub type ByHeaders = fn(&Parts) -> Ready<Result<Option<Identity>, std::io::Error>>;

/// Reads the caller from the headers (see the module docs).
pub fn by_headers(parts: &Parts) -> Ready<Result<Option<Identity>, std::io::Error>> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if parts.headers.contains_key("x-identify-fails") {
        return ready(Err(std::io::Error::other("session store down")));
    }
    ready(Ok(header("x-customer-id").map(|id| Identity {
        customer_id: id,
        customer_data: CustomerDetails {
            name: header("x-customer-name"),
            email: header("x-customer-email"),
        },
    })))
}
