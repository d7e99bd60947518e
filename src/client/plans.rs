//! Plan catalogue reads.

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{GetPlanParams, ListPlansParams, Plan, PlanList};
use crate::transport::HttpTransport;

resource! {
    /// Plan catalogue reads. Get one with [`Client::plans`](crate::Client::plans).
    Plans
}

impl<T: HttpTransport> Plans<'_, T> {
    /// The plans, with each one's `customer_eligibility` when `customer_id` is set (`POST /v1/plans.list`).
    pub async fn list(&self, params: &ListPlansParams) -> Result<PlanList, Error> {
        self.client
            .call(Operation::post("/v1/plans.list", Retry::Safe), params, None)
            .await
    }

    /// One plan (`POST /v1/plans.get`).
    pub async fn get(&self, params: &GetPlanParams) -> Result<Plan, Error> {
        self.client
            .call(Operation::post("/v1/plans.get", Retry::Safe), params, None)
            .await
    }
}
