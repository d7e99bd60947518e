//! Usage event queries.

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{AggregateEventsParams, EventAggregate, EventList, ListEventsParams};
use crate::transport::HttpTransport;

resource! {
    /// Usage event queries. Get one with [`Client::events`](crate::Client::events).
    Events
}

impl<T: HttpTransport> Events<'_, T> {
    /// A page of usage events; pass `next_cursor` back as `start_cursor` for the next one (`POST /v1/events.list`).
    pub async fn list(&self, params: &ListEventsParams) -> Result<EventList, Error> {
        self.client
            .call(
                Operation::post("/v1/events.list", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// Usage aggregated into time bins, optionally grouped by a property (`POST /v1/events.aggregate`).
    pub async fn aggregate(&self, params: &AggregateEventsParams) -> Result<EventAggregate, Error> {
        self.client
            .call(
                Operation::post("/v1/events.aggregate", Retry::Safe),
                params,
                None,
            )
            .await
    }
}
