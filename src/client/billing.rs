//! Billing operations: attach plans, change subscriptions, payment setup, the customer portal.

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{
    AttachParams, BillingPreview, BillingResponse, CustomerPortal, MultiAttachParams,
    OpenCustomerPortalParams, SetupPaymentParams, SetupPaymentResponse, UpdateSubscriptionParams,
};
use crate::transport::HttpTransport;

resource! {
    /// Billing operations: attach plans, change subscriptions, payment setup, the customer portal. Get one with [`Client::billing`](crate::Client::billing).
    Billing
}

impl<T: HttpTransport> Billing<'_, T> {
    /// Attaches a plan (`POST /v1/billing.attach`). When payment is needed, `payment_url` is where to send the customer. Never retried once it may have reached Autumn.
    pub async fn attach(&self, params: &AttachParams) -> Result<BillingResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.attach", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// What attaching would charge and change, without doing it (`POST /v1/billing.preview_attach`).
    pub async fn preview_attach(&self, params: &AttachParams) -> Result<BillingPreview, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.preview_attach", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// Changes a subscription: quantities, customization, cancellation (`POST /v1/billing.update`).
    pub async fn update(
        &self,
        params: &UpdateSubscriptionParams,
    ) -> Result<BillingResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.update", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// What an update would charge and change (`POST /v1/billing.preview_update`).
    pub async fn preview_update(
        &self,
        params: &UpdateSubscriptionParams,
    ) -> Result<BillingPreview, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.preview_update", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// Attaches several plans in one checkout (`POST /v1/billing.multi_attach`).
    pub async fn multi_attach(&self, params: &MultiAttachParams) -> Result<BillingResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.multi_attach", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// What a multi-attach would charge and change (`POST /v1/billing.preview_multi_attach`).
    pub async fn preview_multi_attach(
        &self,
        params: &MultiAttachParams,
    ) -> Result<BillingPreview, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.preview_multi_attach", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// A URL where the customer adds a payment method, optionally attaching a plan afterwards (`POST /v1/billing.setup_payment`).
    pub async fn setup_payment(
        &self,
        params: &SetupPaymentParams,
    ) -> Result<SetupPaymentResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.setup_payment", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// A Stripe billing portal URL for the customer (`POST /v1/billing.open_customer_portal`).
    pub async fn open_customer_portal(
        &self,
        params: &OpenCustomerPortalParams,
    ) -> Result<CustomerPortal, Error> {
        self.client
            .call(
                Operation::post("/v1/billing.open_customer_portal", Retry::Never),
                params,
                None,
            )
            .await
    }
}
