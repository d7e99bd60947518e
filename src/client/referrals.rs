//! Referral codes.

use serde_json::Value;

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::Params;
use crate::transport::HttpTransport;

resource! {
    /// Referral codes. Get one with [`Client::referrals`](crate::Client::referrals).
    Referrals
}

impl<T: HttpTransport> Referrals<'_, T> {
    /// A referral code for the customer (`POST /v1/referrals.create_code`).
    pub async fn create_code(&self, params: &Params) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/referrals.create_code", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// Redeems a referral code (`POST /v1/referrals.redeem_code`).
    pub async fn redeem_code(&self, params: &Params) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/referrals.redeem_code", Retry::Never),
                params,
                None,
            )
            .await
    }
}
