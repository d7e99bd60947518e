//! `entities.*`: seats and other entities of a customer, each with its own copy of the
//! customer's allowances.

use serde::Deserialize;
use serde_json::{json, Value};

use super::super::render;
use super::super::state::{Account, Entity};
use super::input::{
    paginate, read, CustomerId, DisplayName, EntityId, FeatureId, Limit, Number, Present,
    StartCursor, Text,
};
use super::lifecycle::mirror;
use super::{entity_not_found, feature_not_found, Engine, Outcome, Reply};

/// The body of `entities.create`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct CreateBody {
    customer_id: Text<CustomerId>,
    entity_id: Text<EntityId>,
    feature_id: Text<FeatureId>,
    name: Text<DisplayName>,
    /// Read by [`Engine::ensure_customer`] when the customer is new.
    customer_data: Option<Value>,
}

/// The body of `entities.get` and `entities.delete`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct EntityRef {
    customer_id: Text<CustomerId>,
    entity_id: Text<EntityId>,
}

/// The body of `entities.update`: the name is set when present, even `null`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct UpdateBody {
    customer_id: Text<CustomerId>,
    entity_id: Text<EntityId>,
    name: Present<Text<DisplayName>>,
}

/// The body of `entities.list`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ListBody {
    customer_id: Text<CustomerId>,
    start_cursor: Text<StartCursor>,
    limit: Number<Limit>,
}

impl Engine {
    pub(super) fn entity_create(&mut self, body: &Value) -> Outcome {
        let CreateBody {
            customer_id,
            entity_id,
            feature_id,
            name,
            customer_data,
        } = read(body)?;
        let customer_id = customer_id.required()?;
        let entity_id = entity_id.required()?;
        let feature_id = feature_id.required()?;
        if self.catalog.feature_by_id(&feature_id).is_none() {
            return Err(feature_not_found(&feature_id));
        }
        self.ensure_customer(&customer_id, customer_data.as_ref())?;
        let now = self.now;
        let name = name.0;
        let customer = self.existing_mut(&customer_id)?;
        if customer.entities.contains_key(&entity_id) {
            return Err(Reply::error(
                409,
                "entity_already_exists",
                format!("Entity {entity_id:?} already exists for customer {customer_id:?}"),
            ));
        }
        let mut entity = Entity {
            id: entity_id.clone(),
            name,
            feature_id: Some(feature_id),
            created_at: now,
            account: Account::default(),
        };
        mirror(&customer.account, &mut entity.account);
        customer.entities.insert(entity_id.clone(), entity);
        let entity = &self.customers[&customer_id].entities[&entity_id];
        Ok(render::entity(&self.catalog, &customer_id, entity))
    }

    /// The customer and entity a body names, both existing.
    fn entity_ref(
        &self,
        customer_id: Text<CustomerId>,
        entity_id: Text<EntityId>,
    ) -> Result<(String, String), Reply> {
        let customer_id = customer_id.required()?;
        let entity_id = entity_id.required()?;
        let customer = self.existing(&customer_id)?;
        if !customer.entities.contains_key(&entity_id) {
            return Err(entity_not_found(&entity_id));
        }
        Ok((customer_id, entity_id))
    }

    pub(super) fn entity_get(&mut self, body: &Value) -> Outcome {
        let EntityRef {
            customer_id,
            entity_id,
        } = read(body)?;
        let (customer_id, entity_id) = self.entity_ref(customer_id, entity_id)?;
        let entity = &self.customers[&customer_id].entities[&entity_id];
        Ok(render::entity(&self.catalog, &customer_id, entity))
    }

    pub(super) fn entities_list(&mut self, body: &Value) -> Outcome {
        let ListBody {
            customer_id,
            start_cursor,
            limit,
        } = read(body)?;
        let customer_id = customer_id.0;
        let mut all: Vec<(&str, &Entity)> = Vec::new();
        for customer in self.customers.values() {
            if customer_id.as_deref().is_some_and(|id| id != customer.id) {
                continue;
            }
            all.extend(
                customer
                    .entities
                    .values()
                    .map(|e| (customer.id.as_str(), e)),
            );
        }
        let (page, next) = paginate(
            &all,
            |(_, e)| e.id.as_str(),
            start_cursor.0.as_deref(),
            limit.0,
            50,
        );
        Ok(json!({
            "list": page.iter().map(|(c, e)| render::entity(&self.catalog, c, e)).collect::<Vec<_>>(),
            "next_cursor": next,
        }))
    }

    pub(super) fn entity_update(&mut self, body: &Value) -> Outcome {
        let UpdateBody {
            customer_id,
            entity_id,
            name,
        } = read(body)?;
        let (customer_id, entity_id) = self.entity_ref(customer_id, entity_id)?;
        let entity = self
            .customers
            .get_mut(&customer_id)
            .and_then(|c| c.entities.get_mut(&entity_id))
            .ok_or_else(|| entity_not_found(&entity_id))?;
        if let Some(name) = name.0 {
            entity.name = name.0;
        }
        let entity = &self.customers[&customer_id].entities[&entity_id];
        Ok(render::entity(&self.catalog, &customer_id, entity))
    }

    pub(super) fn entity_delete(&mut self, body: &Value) -> Outcome {
        let EntityRef {
            customer_id,
            entity_id,
        } = read(body)?;
        let (customer_id, entity_id) = self.entity_ref(customer_id, entity_id)?;
        if let Some(c) = self.customers.get_mut(&customer_id) {
            c.entities.remove(&entity_id);
        }
        Ok(json!({ "success": true }))
    }
}
