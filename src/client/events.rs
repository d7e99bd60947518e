//! Usage event queries.

use serde_json::Value;

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::Params;
use crate::transport::HttpTransport;

resource! {
    /// Usage event queries. Get one with [`Client::events`](crate::Client::events).
    Events
}

impl<T: HttpTransport> Events<'_, T> {
    /// Usage events, paged (`POST /v1/events.list`).
    pub async fn list(&self, params: &Params) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/events.list", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// Usage aggregated over time (`POST /v1/events.aggregate`).
    pub async fn aggregate(&self, params: &Params) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/events.aggregate", Retry::Safe),
                params,
                None,
            )
            .await
    }
}
