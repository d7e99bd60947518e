//! Balance operations: check access, record usage.

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{BatchTrackResponse, CheckParams, CheckResponse, TrackParams, TrackResponse};
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

    /// Records several usages in one call (`POST /v1/balances.batch_track`; the body is the array of
    /// events). Sent with `idempotency_key`, or a generated key reused on retries; the events' own
    /// `idempotency_key`s are not sent.
    pub async fn batch_track(
        &self,
        events: &[TrackParams],
        idempotency_key: Option<&str>,
    ) -> Result<BatchTrackResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/balances.batch_track", Retry::Idempotent),
                events,
                idempotency_key,
            )
            .await
    }
}
