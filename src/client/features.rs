//! Feature catalogue reads.

use super::resource;

resource! {
    /// Feature catalogue reads. Get one with [`Client::features`](crate::Client::features).
    Features
}
