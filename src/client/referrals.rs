//! Referral codes.

use super::resource;

resource! {
    /// Referral codes. Get one with [`Client::referrals`](crate::Client::referrals).
    Referrals
}
