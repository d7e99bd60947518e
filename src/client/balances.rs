//! Balance operations: check access, record usage.

use super::resource;

resource! {
    /// Balance operations: check access, record usage. Get one with [`Client::balances`](crate::Client::balances).
    Balances
}
