//! Billing operations: attach plans, change subscriptions, payment setup, the customer portal.

use super::resource;

resource! {
    /// Billing operations: attach plans, change subscriptions, payment setup, the customer portal. Get one with [`Client::billing`](crate::Client::billing).
    Billing
}
