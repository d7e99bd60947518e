//! Balance operations: check access, record usage.

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{
    BatchTrackResponse, CheckParams, CheckResponse, FinalizeParams, FinalizeResponse, TrackParams,
    TrackResponse,
};
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

    /// Confirms or releases the units a `check` with a [`lock`](CheckParams::lock) holds
    /// (`POST /v1/balances.finalize`): `action` `"confirm"` commits the deduction (or
    /// [`override_value`](FinalizeParams::override_value) instead of it), `"release"` gives it back.
    /// Never retried once the request may have reached Autumn.
    pub async fn finalize(&self, params: &FinalizeParams) -> Result<FinalizeResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/balances.finalize", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// [`check`](Self::check) that fails open, as Autumn's TypeScript SDK does by default: when Autumn
    /// cannot be reached, times out or answers 5xx ([`Error::is_unavailable`]), it logs one
    /// `tracing::error!` line (operation and status) and answers `allowed: true` with no balance.
    /// Every other error (4xx: a bad request, a wrong key, an unknown feature) is returned.
    pub async fn check_fail_open(&self, params: &CheckParams) -> Result<CheckResponse, Error> {
        match self.check(params).await {
            Err(e) if e.is_unavailable() => {
                log_fail_open("balances.check", &e);
                Ok(CheckResponse {
                    allowed: true,
                    customer_id: params.customer_id.clone(),
                    entity_id: params.entity_id.clone(),
                    required_balance: params.required_balance,
                    ..CheckResponse::default()
                })
            }
            other => other,
        }
    }

    /// [`track`](Self::track) that fails open: when Autumn is unavailable ([`Error::is_unavailable`])
    /// the event is dropped, one `tracing::error!` line says so, and the answer records `value: 0`.
    /// Every other error is returned.
    pub async fn track_fail_open(&self, params: &TrackParams) -> Result<TrackResponse, Error> {
        match self.track(params).await {
            Err(e) if e.is_unavailable() => {
                log_fail_open("balances.track", &e);
                Ok(TrackResponse {
                    customer_id: params.customer_id.clone(),
                    entity_id: params.entity_id.clone(),
                    event_name: params.event_name.clone(),
                    value: 0.0,
                    ..TrackResponse::default()
                })
            }
            other => other,
        }
    }
}

/// The one line a fail-open call logs.
pub(crate) fn log_fail_open(operation: &'static str, e: &Error) {
    tracing::error!(
        operation,
        status = %e.unavailable_status(),
        error = %e,
        "Autumn is unavailable: {operation} failed open"
    );
}
