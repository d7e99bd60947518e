//! The fake payment pages: `billing.setup_payment`, `billing.open_customer_portal`, and
//! completing a checkout as if the customer paid.

use serde::Deserialize;
use serde_json::{json, Value};

use super::super::render;
use super::super::state::{Checkout, CheckoutKind, CheckoutPage};
use super::input::{read, CustomerId, EntityId, PlanId, SuccessUrl, Text};
use super::{Engine, Outcome};

/// The body of `billing.setup_payment`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct SetupBody {
    customer_id: Text<CustomerId>,
    entity_id: Text<EntityId>,
    plan_id: Text<PlanId>,
    success_url: Text<SuccessUrl>,
}

/// The body of `billing.open_customer_portal`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct PortalBody {
    customer_id: Text<CustomerId>,
}

impl Engine {
    pub(super) fn setup_payment(&mut self, body: &Value) -> Outcome {
        let SetupBody {
            customer_id,
            entity_id,
            plan_id,
            success_url,
        } = read(body)?;
        let customer_id = customer_id.required()?;
        let (entity_id, plan_id) = (entity_id.0, plan_id.0);
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
        if let Some(plan_id) = &plan_id {
            self.plan(plan_id)?;
        }
        self.account(&customer_id, entity_id.as_deref())?;
        let id = random_id("setup");
        let url = format!("{}/setup/{id}", self.base_url);
        self.seq += 1;
        self.checkouts.insert(
            id,
            Checkout {
                opened: self.seq,
                token: uuid::Uuid::new_v4().simple().to_string(),
                kind: CheckoutKind::Setup,
                customer_id: customer_id.clone(),
                entity_id: entity_id.clone(),
                plan_ids: plan_id.into_iter().collect(),
                success_url: success_url.0,
            },
        );
        let mut answer = json!({ "customer_id": customer_id, "url": url });
        if let Some(e) = entity_id {
            answer["entity_id"] = json!(e);
        }
        Ok(answer)
    }

    pub(super) fn open_customer_portal(&mut self, body: &Value) -> Outcome {
        let customer_id = read::<PortalBody>(body)?.customer_id.required()?;
        self.existing(&customer_id)?;
        Ok(json!({
            "customer_id": customer_id,
            "url": format!("{}/portal/{}", self.base_url, url_segment(&customer_id)),
        }))
    }

    /// Completes a checkout or payment setup as if the customer paid: the customer now has a
    /// payment method and the plans are attached. Returns the success URL, if one was given.
    pub(crate) fn complete_checkout(&mut self, url_or_id: &str) -> Result<Option<String>, String> {
        let id = checkout_id(url_or_id);
        let checkout = self
            .checkouts
            .remove(id)
            .ok_or_else(|| format!("no open checkout {id:?}"))?;
        self.settle();
        let customer = self
            .customers
            .get_mut(&checkout.customer_id)
            .ok_or_else(|| format!("the customer {:?} was deleted", checkout.customer_id))?;
        customer.payment_method = true;
        if customer.stripe_id.is_none() {
            customer.stripe_id = Some(format!("cus_offline_{}", customer.created_at));
        }
        let result = if checkout.kind == CheckoutKind::Setup && checkout.plan_ids.is_empty() {
            Ok(json!({}))
        } else {
            self.attach_plans(
                &checkout.customer_id,
                checkout.entity_id.as_deref(),
                &checkout.plan_ids,
                None,
            )
        };
        self.settle();
        match result {
            Ok(_) => Ok(checkout.success_url),
            Err(reply) => Err(reply.body["message"]
                .as_str()
                .unwrap_or("the attach failed")
                .to_owned()),
        }
    }

    /// The open checkout URLs, oldest first.
    pub(crate) fn open_checkouts(&self) -> Vec<String> {
        let mut open: Vec<(&String, &Checkout)> = self.checkouts.iter().collect();
        open.sort_by_key(|(_, c)| c.opened);
        open.into_iter()
            .map(|(id, c)| format!("{}{}", self.base_url, page_path(id, c)))
            .collect()
    }

    /// The token the page of checkout `id` carries, if it is open.
    pub(crate) fn checkout_token(&self, id: &str) -> Option<&str> {
        self.checkouts.get(id).map(|c| c.token.as_str())
    }

    /// What the page of checkout `id` shows: its path, the customer, the plans and the token.
    pub(crate) fn describe_checkout(&self, id: &str) -> Option<CheckoutPage> {
        let (id, checkout) = self.checkouts.get_key_value(id)?;
        let names = checkout
            .plan_ids
            .iter()
            .map(|p| {
                self.catalog.plan_by_id(p).map_or_else(
                    || p.clone(),
                    |plan| match plan.price {
                        Some(price) if price.amount > 0.0 => format!(
                            "{} ({} {})",
                            plan.name,
                            render::dollars(price.amount),
                            price.interval.as_str().replace('_', "-")
                        ),
                        _ => plan.name.clone(),
                    },
                )
            })
            .collect();
        Some(CheckoutPage {
            path: page_path(id, checkout),
            customer_id: checkout.customer_id.clone(),
            plans: names,
            token: checkout.token.clone(),
        })
    }
}

/// The id a checkout URL ends with.
fn checkout_id(url_or_id: &str) -> &str {
    url_or_id
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(url_or_id)
}

/// The path of a checkout's page: `/checkout/<id>` or `/setup/<id>`.
fn page_path(id: &str, checkout: &Checkout) -> String {
    match checkout.kind {
        CheckoutKind::Attach => format!("/checkout/{id}"),
        CheckoutKind::Setup => format!("/setup/{id}"),
    }
}

fn url_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An unguessable checkout or setup id: `prefix_` and a v4 UUID (122 bits from the OS RNG).
pub(super) fn random_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}
