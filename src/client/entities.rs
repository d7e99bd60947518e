//! Entity operations (seats, workspaces, ... of a customer).

use super::resource;

resource! {
    /// Entity operations (seats, workspaces, ... of a customer). Get one with [`Client::entities`](crate::Client::entities).
    Entities
}
