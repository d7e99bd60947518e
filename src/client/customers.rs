//! Customer operations.

use super::resource;

resource! {
    /// Customer operations. Get one with [`Client::customers`](crate::Client::customers).
    Customers
}
