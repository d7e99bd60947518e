//! Customer operations.

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{
    Customer, CustomerList, DeleteCustomerParams, DeleteResponse, GetCustomerParams,
    GetOrCreateCustomerParams, ListCustomersParams, UpdateCustomerParams,
};
use crate::transport::HttpTransport;

resource! {
    /// Customer operations. Get one with [`Client::customers`](crate::Client::customers).
    Customers
}

impl<T: HttpTransport> Customers<'_, T> {
    /// The customer, created on first sight (`POST /v1/customers.get_or_create`). Retried like a read: a repeat finds the customer the first attempt created.
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

    /// One customer, with any `expand`ed fields (`POST /v1/customers.get`).
    pub async fn get(&self, params: &GetCustomerParams) -> Result<Customer, Error> {
        self.client
            .call(
                Operation::post("/v1/customers.get", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// A page of customers; pass `next_cursor` back as `start_cursor` for the next one (`POST /v1/customers.list`).
    pub async fn list(&self, params: &ListCustomersParams) -> Result<CustomerList, Error> {
        self.client
            .call(
                Operation::post("/v1/customers.list", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// Updates a customer and returns it (`POST /v1/customers.update`).
    pub async fn update(&self, params: &UpdateCustomerParams) -> Result<Customer, Error> {
        self.client
            .call(
                Operation::post("/v1/customers.update", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// Deletes a customer (`POST /v1/customers.delete`).
    pub async fn delete(&self, params: &DeleteCustomerParams) -> Result<DeleteResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/customers.delete", Retry::Never),
                params,
                None,
            )
            .await
    }
}
