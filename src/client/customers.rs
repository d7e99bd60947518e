//! Customer operations.

use serde_json::Value;

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{Customer, GetOrCreateCustomerParams, Params};
use crate::transport::HttpTransport;

resource! {
    /// Customer operations. Get one with [`Client::customers`](crate::Client::customers).
    Customers
}

impl<T: HttpTransport> Customers<'_, T> {
    /// The customer, created on first sight (`POST /v1/customers.get_or_create`).
    pub async fn get_or_create(
        &self,
        params: &GetOrCreateCustomerParams,
    ) -> Result<Customer, Error> {
        self.client
            .call(
                Operation::post("/v1/customers.get_or_create", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// One customer (`customer_id`) (`POST /v1/customers.get`).
    pub async fn get(&self, params: &Params) -> Result<Customer, Error> {
        self.client
            .call(
                Operation::post("/v1/customers.get", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// Customers, paged (`POST /v1/customers.list`).
    pub async fn list(&self, params: &Params) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/customers.list", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// Updates a customer (`POST /v1/customers.update`).
    pub async fn update(&self, params: &Params) -> Result<Customer, Error> {
        self.client
            .call(
                Operation::post("/v1/customers.update", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// Deletes a customer (`POST /v1/customers.delete`).
    pub async fn delete(&self, params: &Params) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/customers.delete", Retry::Never),
                params,
                None,
            )
            .await
    }
}
