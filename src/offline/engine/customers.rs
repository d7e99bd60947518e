//! `customers.*`: creating a customer on first sight, reading, listing, updating and deleting.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::super::render;
use super::super::state::{Account, Customer};
use super::input::{
    paginate, read, CustomerId, DisplayName, Email, Expand, Fingerprint, Later, Limit, Metadata,
    NewCustomerId, Number, Object, Present, Search, StartCursor, Text,
};
use super::lifecycle::settle_account;
use super::{customer_not_found, Engine, Outcome, Reply};

/// What a customer is given on sight: the fields of `customers.get_or_create`, or the
/// `customer_data` of the operations that create a customer on first sight. `name` and `email`
/// fill those of an existing customer that has none; the rest is read only for a new customer.
#[derive(Default, Deserialize)]
#[serde(default)]
struct CustomerData {
    name: Text<DisplayName>,
    email: Text<Email>,
    fingerprint: Later<Text<Fingerprint>>,
    metadata: Later<Object<Metadata>>,
}

/// The body of `customers.get_or_create` (its other fields are [`CustomerData`]).
#[derive(Default, Deserialize)]
#[serde(default)]
struct GetOrCreateBody {
    customer_id: Text<CustomerId>,
    expand: Expand,
}

/// The body of `customers.get` and `customers.delete`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct CustomerRef {
    customer_id: Text<CustomerId>,
    expand: Expand,
}

/// The body of `customers.list`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ListBody {
    search: Text<Search>,
    start_cursor: Text<StartCursor>,
    limit: Number<Limit>,
}

/// The body of `customers.update`: a field that is present (even `null`) is set.
#[derive(Default, Deserialize)]
#[serde(default)]
struct UpdateBody {
    customer_id: Text<CustomerId>,
    new_customer_id: Text<NewCustomerId>,
    name: Present<Text<DisplayName>>,
    email: Present<Text<Email>>,
    fingerprint: Present<Text<Fingerprint>>,
    metadata: Present<Object<Metadata>>,
}

impl Engine {
    /// Creates the customer on first sight, with the default plan; fills a missing name or email.
    /// `data` is read only when it is an object.
    pub(super) fn ensure_customer(&mut self, id: &str, data: Option<&Value>) -> Result<(), Reply> {
        let CustomerData {
            name,
            email,
            fingerprint,
            metadata,
        } = match data {
            Some(data @ Value::Object(_)) => read(data)?,
            _ => CustomerData::default(),
        };
        let (name, email) = (name.0, email.0);
        if let Some(customer) = self.customers.get_mut(id) {
            if customer.name.is_none() {
                customer.name = name;
            }
            if customer.email.is_none() {
                customer.email = email;
            }
            return Ok(());
        }
        let mut customer = Customer {
            id: id.to_owned(),
            name,
            email,
            fingerprint: fingerprint.get()?.0,
            metadata: metadata.get()?.0,
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
        let GetOrCreateBody {
            customer_id,
            expand,
        } = read(body)?;
        let id = customer_id.required()?;
        self.ensure_customer(&id, Some(body))?;
        Ok(render::customer(
            &self.catalog,
            &self.customers[&id],
            &expand.0,
        ))
    }

    pub(super) fn customer_get(&mut self, body: &Value) -> Outcome {
        let CustomerRef {
            customer_id,
            expand,
        } = read(body)?;
        let id = customer_id.required()?;
        let customer = self.existing(&id)?;
        Ok(render::customer(&self.catalog, customer, &expand.0))
    }

    pub(super) fn customers_list(&mut self, body: &Value) -> Outcome {
        let ListBody {
            search,
            start_cursor,
            limit,
        } = read(body)?;
        let search = search.0.map(|s| s.to_lowercase());
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
        let (page, next) = paginate(
            &matching,
            |c| c.id.as_str(),
            start_cursor.0.as_deref(),
            limit.0,
            50,
        );
        Ok(json!({
            "list": page.iter().map(|c| render::customer(&self.catalog, c, &[])).collect::<Vec<_>>(),
            "next_cursor": next,
        }))
    }

    pub(super) fn customer_update(&mut self, body: &Value) -> Outcome {
        let UpdateBody {
            customer_id,
            new_customer_id,
            name,
            email,
            fingerprint,
            metadata,
        } = read(body)?;
        let id = customer_id.required()?;
        let new_id = new_customer_id.0;
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
        if let Some(name) = name.0 {
            customer.name = name.0;
        }
        if let Some(email) = email.0 {
            customer.email = email.0;
        }
        if let Some(fingerprint) = fingerprint.0 {
            customer.fingerprint = fingerprint.0;
        }
        if let Some(metadata) = metadata.0 {
            customer.metadata = metadata.0;
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
        let id = read::<CustomerRef>(body)?.customer_id.required()?;
        self.customers
            .remove(&id)
            .ok_or_else(|| customer_not_found(&id))?;
        Ok(json!({ "success": true }))
    }
}
