//! Entity operations (seats, workspaces, ... of a customer).

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::{
    CreateEntityParams, DeleteEntityParams, DeleteResponse, Entity, EntityList, GetEntityParams,
    ListEntitiesParams, UpdateEntityParams,
};
use crate::transport::HttpTransport;

resource! {
    /// Entity operations (seats, workspaces, ... of a customer). Get one with [`Client::entities`](crate::Client::entities).
    Entities
}

impl<T: HttpTransport> Entities<'_, T> {
    /// Creates an entity (`POST /v1/entities.create`).
    pub async fn create(&self, params: &CreateEntityParams) -> Result<Entity, Error> {
        self.client
            .call(
                Operation::post("/v1/entities.create", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// One entity (`POST /v1/entities.get`).
    pub async fn get(&self, params: &GetEntityParams) -> Result<Entity, Error> {
        self.client
            .call(
                Operation::post("/v1/entities.get", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// A customer's entities (`POST /v1/entities.list`).
    pub async fn list(&self, params: &ListEntitiesParams) -> Result<EntityList, Error> {
        self.client
            .call(
                Operation::post("/v1/entities.list", Retry::Safe),
                params,
                None,
            )
            .await
    }

    /// Updates an entity and returns it (`POST /v1/entities.update`).
    pub async fn update(&self, params: &UpdateEntityParams) -> Result<Entity, Error> {
        self.client
            .call(
                Operation::post("/v1/entities.update", Retry::Never),
                params,
                None,
            )
            .await
    }

    /// Deletes an entity (`POST /v1/entities.delete`).
    pub async fn delete(&self, params: &DeleteEntityParams) -> Result<DeleteResponse, Error> {
        self.client
            .call(
                Operation::post("/v1/entities.delete", Retry::Never),
                params,
                None,
            )
            .await
    }
}
