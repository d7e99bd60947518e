//! Balance operations: check access, record usage.

use serde_json::Value;

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{CheckParams, CheckResponse, Params, TrackParams, TrackResponse};
use crate::transport::HttpTransport;

resource! {
    /// Balance operations: check access, record usage. Get one with [`Client::balances`](crate::Client::balances).
    Balances
}

impl<T: HttpTransport> Balances<'_, T> {
    /// Whether the customer may use a feature now (`POST /v1/balances.check`).
    pub async fn check(&self, params: &CheckParams) -> Result<CheckResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/balances.check", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// Records usage (`POST /v1/balances.track`). Always sent with an `Idempotency-Key` (the params' one,
    /// or one generated before the first attempt), so a lost answer can be retried without counting twice.
    pub async fn track(&self, params: &TrackParams) -> Result<TrackResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/balances.track", Retry::Idempotent),
                params,
                params.idempotency_key.as_deref(),
            )
            .await
    }

    /// Records several usages in one call (`POST /v1/balances.batch_track`), with an idempotency key.
    pub async fn batch_track(
        &self,
        params: &Params,
        idempotency_key: Option<&str>,
    ) -> Result<Value, Error> {
        self.client
            .call(
                Operation::post("/v1/balances.batch_track", Retry::Idempotent),
                params,
                idempotency_key,
            )
            .await
    }
}
