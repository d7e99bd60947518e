//! Feature catalogue reads.

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{Feature, FeatureList, GetFeatureParams, ListFeaturesParams};
use crate::transport::HttpTransport;

resource! {
    /// Feature catalogue reads. Get one with [`Client::features`](crate::Client::features).
    Features
}

impl<T: HttpTransport> Features<'_, T> {
    /// The features (`POST /v1/features.list`). The operation takes no parameters: the request has no
    /// body unless `params.extra` has fields.
    pub async fn list(&self, params: &ListFeaturesParams) -> Result<FeatureList, Error> {
        let op = Operation::post("/v1/features.list", Retry::Safe);
        if params.extra.is_empty() {
            self.client.call_without_body(op).await
        } else {
            self.client.call(op, params, None).await
        }
    }

    /// One feature (`POST /v1/features.get`).
    pub async fn get(&self, params: &GetFeatureParams) -> Result<Feature, Error> {
        self.client
            .call(
                Operation::post("/v1/features.get", Retry::Safe),
                params,
                None,
            )
            .await
    }
}
