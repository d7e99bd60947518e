//! Billing operations: attach plans, change subscriptions, payment setup, the customer portal.

use serde_json::Value;

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{AttachParams, BillingResponse, Params};
use crate::transport::HttpTransport;

resource! {
    /// Billing operations: attach plans, change subscriptions, payment setup, the customer portal. Get one with [`Client::billing`](crate::Client::billing).
    Billing
}

impl<T: HttpTransport> Billing<'_, T> {
    /// Attaches a plan; never retried once it may have reached Autumn (`POST /v1/billing.attach`).
    pub async fn attach(&self, params: &AttachParams) -> Result<BillingResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.attach", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// Describes what attaching would do (`POST /v1/billing.preview_attach`).
    pub async fn preview_attach(&self, params: &AttachParams) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.preview_attach", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// Changes a subscription (`POST /v1/billing.update`).
    pub async fn update(&self, params: &Params) -> Result<BillingResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.update", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// Describes what an update would do (`POST /v1/billing.preview_update`).
    pub async fn preview_update(&self, params: &Params) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.preview_update", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// Attaches several plans at once (`POST /v1/billing.multi_attach`).
    pub async fn multi_attach(&self, params: &Params) -> Result<BillingResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.multi_attach", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// Describes what a multi-attach would do (`POST /v1/billing.preview_multi_attach`).
    pub async fn preview_multi_attach(&self, params: &Params) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.preview_multi_attach", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// A URL where the customer adds a payment method (`POST /v1/billing.setup_payment`).
    pub async fn setup_payment(&self, params: &Params) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.setup_payment", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// A Stripe customer portal URL (`POST /v1/billing.open_customer_portal`).
    pub async fn open_customer_portal(&self, params: &Params) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.open_customer_portal", Retry::Never),
                params,
                None,
            )
            .await
    }
}
