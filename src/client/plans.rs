//! Plan catalogue reads.

use super::resource;

resource! {
    /// Plan catalogue reads. Get one with [`Client::plans`](crate::Client::plans).
    Plans
}
