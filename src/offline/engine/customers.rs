//! `customers.*`: creating a customer on first sight, reading, listing, updating and deleting.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::super::render;
use super::super::state::{Account, Customer};
use super::input::{expand, object, paginate, required, string};
use super::lifecycle::settle_account;
use super::{customer_not_found, Engine, Outcome, Reply};

impl Engine {
    /// Creates the customer on first sight, with the default plan; fills a missing name or email.
    pub(super) fn ensure_customer(&mut self, id: &str, data: Option<&Value>) -> Result<(), Reply> {
        let name = data.map(|d| string(d, "name")).transpose()?.flatten();
        let email = data.map(|d| string(d, "email")).transpose()?.flatten();
        if let Some(customer) = self.customers.get_mut(id) {
            if customer.name.is_none() {
                customer.name = name;
            }
            if customer.email.is_none() {
                customer.email = email;
            }
            return Ok(());
        }
        let fingerprint = data
            .map(|d| string(d, "fingerprint"))
            .transpose()?
            .flatten();
        let metadata = data
            .map(|d| object(d, "metadata"))
            .transpose()?
            .unwrap_or_default();
        let mut customer = Customer {
            id: id.to_owned(),
            name,
            email,
            fingerprint,
            metadata,
            created_at: self.now,
            stripe_id: None,
            payment_method: false,
            account: Account::default(),
            entities: BTreeMap::new(),
            invoices: Vec::new(),
        };
        settle_account(
            &mut customer.account,
            &self.catalog,
            self.now,
            &mut self.seq,
            true,
        );
        self.customers.insert(id.to_owned(), customer);
        Ok(())
    }

    pub(super) fn get_or_create(&mut self, body: &Value) -> Outcome {
        let id = required(body, "customer_id")?;
        self.ensure_customer(&id, Some(body))?;
        Ok(render::customer(
            &self.catalog,
            &self.customers[&id],
            &expand(body),
        ))
    }

    pub(super) fn customer_get(&mut self, body: &Value) -> Outcome {
        let id = required(body, "customer_id")?;
        let customer = self.existing(&id)?;
        Ok(render::customer(&self.catalog, customer, &expand(body)))
    }

    pub(super) fn customers_list(&mut self, body: &Value) -> Outcome {
        let search = string(body, "search")?.map(|s| s.to_lowercase());
        let matching: Vec<&Customer> = self
            .customers
            .values()
            .filter(|c| {
                search.as_deref().is_none_or(|s| {
                    [Some(&c.id), c.name.as_ref(), c.email.as_ref()]
                        .into_iter()
                        .flatten()
                        .any(|v| v.to_lowercase().contains(s))
                })
            })
            .collect();
        let (page, next) = paginate(&matching, |c| c.id.as_str(), body, 50)?;
        Ok(json!({
            "list": page.iter().map(|c| render::customer(&self.catalog, c, &[])).collect::<Vec<_>>(),
            "next_cursor": next,
        }))
    }

    pub(super) fn customer_update(&mut self, body: &Value) -> Outcome {
        let id = required(body, "customer_id")?;
        let new_id = string(body, "new_customer_id")?;
        if let Some(new_id) = &new_id {
            if new_id != &id && self.customers.contains_key(new_id) {
                return Err(Reply::error(
                    409,
                    "customer_already_exists",
                    format!("Customer {new_id:?} already exists"),
                ));
            }
        }
        let customer = self.existing_mut(&id)?;
        for (field, slot) in [
            ("name", &mut customer.name),
            ("email", &mut customer.email),
            ("fingerprint", &mut customer.fingerprint),
        ] {
            if body.get(field).is_some() {
                *slot = string(body, field)?;
            }
        }
        if body.get("metadata").is_some() {
            customer.metadata = object(body, "metadata")?;
        }
        let mut customer = customer.clone();
        if let Some(new_id) = new_id.filter(|n| n != &id) {
            self.customers.remove(&id);
            customer.id = new_id;
        }
        let answer = render::customer(&self.catalog, &customer, &[]);
        self.customers.insert(customer.id.clone(), customer);
        Ok(answer)
    }

    pub(super) fn customer_delete(&mut self, body: &Value) -> Outcome {
        let id = required(body, "customer_id")?;
        self.customers
            .remove(&id)
            .ok_or_else(|| customer_not_found(&id))?;
        Ok(json!({ "success": true }))
    }
}
