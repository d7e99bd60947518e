//! The hand-written part of the per-customer token operations: `keys.refresh` authenticates with the
//! refresh token, not the secret key (the rest is generated).

use bytes::Bytes;
use http::HeaderValue;

use super::generated::{Keys, KEYS_REFRESH};
use crate::error::Error;
use crate::models::{CustomerToken, RefreshKeyParams};
use crate::transport::HttpTransport;

impl<T: HttpTransport> Keys<'_, T> {
    /// Exchanges a refresh token (the `refresh_token` of [`mint`](Self::mint) or of an earlier refresh)
    /// for a new access and refresh pair (`POST /v1/keys.refresh`). Sent with `refresh_token` as its
    /// Bearer credential instead of the client's secret key. Never retried once it may have reached
    /// Autumn: replaying an older refresh token revokes the customer's tokens.
    pub async fn refresh(
        &self,
        params: &RefreshKeyParams,
        refresh_token: &str,
    ) -> Result<CustomerToken, Error> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {refresh_token}"))
            .map_err(|_| Error::config("the refresh token is not a valid header value"))?;
        auth.set_sensitive(true);
        let body = Bytes::from(serde_json::to_vec(params).map_err(Error::encode)?);
        let raw = self
            .client
            .execute_as(KEYS_REFRESH.operation(), Some(body), None, Some(&auth))
            .await?;
        self.client.decode(raw)
    }
}
