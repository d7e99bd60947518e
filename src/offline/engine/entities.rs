//! `entities.*`: seats and other entities of a customer, each with its own copy of the
//! customer's allowances.

use serde_json::{json, Value};

use super::super::render;
use super::super::state::{Account, Entity};
use super::input::{paginate, required, string};
use super::lifecycle::mirror;
use super::{entity_not_found, feature_not_found, Engine, Outcome, Reply};

impl Engine {
    pub(super) fn entity_create(&mut self, body: &Value) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let entity_id = required(body, "entity_id")?;
        let feature_id = required(body, "feature_id")?;
        if self.catalog.feature_by_id(&feature_id).is_none() {
            return Err(feature_not_found(&feature_id));
        }
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
        let now = self.now;
        let name = string(body, "name")?;
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

    pub(super) fn entity_ref(&self, body: &Value) -> Result<(String, String), Reply> {
        let customer_id = required(body, "customer_id")?;
        let entity_id = required(body, "entity_id")?;
        let customer = self.existing(&customer_id)?;
        if !customer.entities.contains_key(&entity_id) {
            return Err(entity_not_found(&entity_id));
        }
        Ok((customer_id, entity_id))
    }

    pub(super) fn entity_get(&mut self, body: &Value) -> Outcome {
        let (customer_id, entity_id) = self.entity_ref(body)?;
        let entity = &self.customers[&customer_id].entities[&entity_id];
        Ok(render::entity(&self.catalog, &customer_id, entity))
    }

    pub(super) fn entities_list(&mut self, body: &Value) -> Outcome {
        let customer_id = string(body, "customer_id")?;
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
        let (page, next) = paginate(&all, |(_, e)| e.id.as_str(), body, 50)?;
        Ok(json!({
            "list": page.iter().map(|(c, e)| render::entity(&self.catalog, c, e)).collect::<Vec<_>>(),
            "next_cursor": next,
        }))
    }

    pub(super) fn entity_update(&mut self, body: &Value) -> Outcome {
        let (customer_id, entity_id) = self.entity_ref(body)?;
        let name = string(body, "name")?;
        let entity = self
            .customers
            .get_mut(&customer_id)
            .and_then(|c| c.entities.get_mut(&entity_id))
            .ok_or_else(|| entity_not_found(&entity_id))?;
        if body.get("name").is_some() {
            entity.name = name;
        }
        let entity = &self.customers[&customer_id].entities[&entity_id];
        Ok(render::entity(&self.catalog, &customer_id, entity))
    }

    pub(super) fn entity_delete(&mut self, body: &Value) -> Outcome {
        let (customer_id, entity_id) = self.entity_ref(body)?;
        if let Some(c) = self.customers.get_mut(&customer_id) {
            c.entities.remove(&entity_id);
        }
        Ok(json!({ "success": true }))
    }
}
