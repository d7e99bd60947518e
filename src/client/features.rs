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
    /// The features (`POST /v1/features.list`).
    pub async fn list(&self, params: &ListFeaturesParams) -> Result<FeatureList, Error> {
        self.client
            .call(
                Operation::post("/v1/features.list", Retry::Safe),
                params,
                None,
            )
            .await
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
