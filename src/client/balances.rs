//! The hand-written part of the balance operations: `batch_track` (an array body and a key) and the
//! fail-open variants of `check` and `track` (the rest is generated).

use super::generated::{Balances, BALANCES_BATCH_TRACK};
use crate::error::Error;
use crate::models::{BatchTrackResponse, CheckParams, CheckResponse, TrackParams, TrackResponse};
use crate::transport::HttpTransport;

impl<T: HttpTransport> Balances<'_, T> {
    /// Records several usages in one call (`POST /v1/balances.batch_track`; the body is the array of
    /// events). Sent with `idempotency_key`, or a generated key reused on retries; the events' own
    /// `idempotency_key`s are not sent.
    pub async fn batch_track(
        &self,
        events: &[TrackParams],
        idempotency_key: Option<&str>,
    ) -> Result<BatchTrackResponse, Error> {
        self.client
            .call(BALANCES_BATCH_TRACK.operation(), events, idempotency_key)
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
