//! Referral codes.

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{
    CreateReferralCodeParams, RedeemReferralCodeParams, ReferralCode, ReferralRedemption,
};
use crate::transport::HttpTransport;

resource! {
    /// Referral codes. Get one with [`Client::referrals`](crate::Client::referrals).
    Referrals
}

impl<T: HttpTransport> Referrals<'_, T> {
    /// A referral code for the customer in a program (`POST /v1/referrals.create_code`).
    pub async fn create_code(
        &self,
        params: &CreateReferralCodeParams,
    ) -> Result<ReferralCode, Error> {
        self.client
            .call(
                Operation::post("/v1/referrals.create_code", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// Redeems a referral code for a customer (`POST /v1/referrals.redeem_code`).
    pub async fn redeem_code(
        &self,
        params: &RedeemReferralCodeParams,
    ) -> Result<ReferralRedemption, Error> {
        self.client
            .call(
                Operation::post("/v1/referrals.redeem_code", Retry::Never),
                params,
                None,
            )
            .await
    }
}
