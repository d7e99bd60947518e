//! Usage event queries.

use super::resource;

resource! {
    /// Usage event queries. Get one with [`Client::events`](crate::Client::events).
    Events
}
