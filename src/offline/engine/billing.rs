//! `billing.attach`, `multi_attach`, their previews, and `billing.update` with its preview:
//! what attaching, upgrading, downgrading and canceling plans does.

use serde::Deserialize;
use serde_json::{json, Value};

use super::super::catalog::{Catalog, Interval};
use super::super::state::{Checkout, CheckoutKind, Invoice, Purchase, Status, Sub};
use super::super::{render, time};
use super::checkout::random_id;
use super::input::{
    read, CancelAction, CustomerId, EntityId, PlanId, SubscriptionId, SuccessUrl, Text,
};
use super::lifecycle::{action, drop_scheduled, grant, start, Action};
use super::{account_in, bad, Engine, Outcome, Reply, MAX_IDS};

impl Engine {
    /// Attaches `plan_ids` now, or answers a checkout URL when a charge needs a payment method.
    pub(super) fn attach_plans(
        &mut self,
        customer_id: &str,
        entity_id: Option<&str>,
        plan_ids: &[String],
        success_url: Option<String>,
    ) -> Outcome {
        let mut charges = false;
        for plan_id in plan_ids {
            let plan = self.plan(plan_id)?;
            let account = self.account(customer_id, entity_id)?;
            let action = action(&self.catalog, account, plan);
            if let Action::Nothing { scheduled } = action {
                let state = if scheduled { "scheduled" } else { "active" };
                return Err(Reply::error(
                    400,
                    "plan_already_attached",
                    format!("Plan {plan_id:?} is already {state} for this customer"),
                ));
            }
            charges |= action.charges(plan);
        }
        let mut answer = json!({ "customer_id": customer_id, "payment_url": null });
        if let Some(e) = entity_id {
            answer["entity_id"] = json!(e);
        }
        if charges && !self.existing(customer_id)?.payment_method {
            let id = random_id("co");
            let url = format!("{}/checkout/{id}", self.base_url);
            self.seq += 1;
            self.checkouts.insert(
                id,
                Checkout {
                    opened: self.seq,
                    token: uuid::Uuid::new_v4().simple().to_string(),
                    kind: CheckoutKind::Attach,
                    customer_id: customer_id.to_owned(),
                    entity_id: entity_id.map(str::to_owned),
                    plan_ids: plan_ids.to_vec(),
                    success_url,
                },
            );
            answer["payment_url"] = json!(url);
            return Ok(answer);
        }
        let mut total = 0.0;
        for plan_id in plan_ids {
            total += self.apply(customer_id, entity_id, plan_id)?;
        }
        if total > 0.0 {
            let stripe_id = self.next_id("in_offline");
            let now = self.now;
            self.existing_mut(customer_id)?.invoices.push(Invoice {
                plan_ids: plan_ids.to_vec(),
                stripe_id: stripe_id.clone(),
                total,
                created_at: now,
            });
            answer["invoice"] = json!({
                "status": "paid",
                "stripe_id": stripe_id,
                "total": total,
                "currency": "usd",
                "hosted_invoice_url": null,
            });
        }
        Ok(answer)
    }

    /// Carries out one attach whose payment is settled; returns what it charged.
    pub(super) fn apply(
        &mut self,
        customer_id: &str,
        entity_id: Option<&str>,
        plan_id: &str,
    ) -> Result<f64, Reply> {
        self.plan(plan_id)?;
        let now = self.now;
        let sub_id = self.next_id("sub");
        let Engine {
            catalog,
            customers,
            seq,
            ..
        } = self;
        let plan = catalog.plan_by_id(plan_id).expect("checked above");
        let account = account_in(customers, customer_id, entity_id)?;
        let action = action(catalog, account, plan);
        let charged = if action.charges(plan) {
            plan.amount()
        } else {
            0.0
        };
        match action {
            Action::Nothing { .. } => {}
            Action::Activate => start(account, plan, sub_id, now, seq),
            Action::Upgrade { current } => {
                let old = account.subs.remove(current);
                account
                    .grants
                    .retain(|g| g.sub_id.as_deref() != Some(&old.id));
                drop_scheduled(account, catalog, plan.group.as_deref());
                start(account, plan, sub_id, now, seq);
            }
            Action::Downgrade { current } => {
                drop_scheduled(account, catalog, plan.group.as_deref());
                let sub = &mut account.subs[current];
                let ends = sub.period_end.filter(|end| *end > now).unwrap_or(now);
                sub.canceled_at = Some(now);
                sub.expires_at = Some(ends);
                account.subs.push(Sub {
                    id: sub_id,
                    plan_id: plan.id.clone(),
                    status: Status::Scheduled,
                    started_at: ends,
                    period_start: None,
                    period_end: None,
                    canceled_at: None,
                    expires_at: None,
                });
            }
            Action::Purchase => {
                account.purchases.push(Purchase {
                    plan_id: plan.id.clone(),
                    started_at: now,
                    quantity: 1.0,
                });
                for item in &plan.items {
                    *seq += 1;
                    account
                        .grants
                        .push(grant(item, plan, None, format!("bal_{seq:06}"), now));
                }
            }
            Action::Renew { current } => {
                let sub = &mut account.subs[current];
                sub.canceled_at = None;
                sub.expires_at = None;
                drop_scheduled(account, catalog, plan.group.as_deref());
            }
        }
        let customer = self.existing_mut(customer_id)?;
        if customer.stripe_id.is_none() && charged > 0.0 {
            customer.stripe_id = Some(format!("cus_offline_{}", customer.created_at));
        }
        Ok(charged)
    }

    pub(super) fn attach(&mut self, body: &Value) -> Outcome {
        let AttachBody {
            customer_id,
            plan_id,
            entity_id,
            success_url,
            customer_data,
        } = read(body)?;
        let customer_id = customer_id.required()?;
        let plan_id = plan_id.required()?;
        self.ensure_customer(&customer_id, customer_data.as_ref())?;
        self.attach_plans(
            &customer_id,
            entity_id.0.as_deref(),
            &[plan_id],
            success_url.0,
        )
    }

    pub(super) fn multi_plan_ids(plans: Option<&Value>) -> Result<Vec<String>, Reply> {
        let plans = plans
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| bad("`plans` must be a non-empty array"))?;
        if plans.len() > MAX_IDS {
            return Err(bad(format!(
                "`plans` has {} entries: at most {MAX_IDS}",
                plans.len()
            )));
        }
        plans
            .iter()
            .map(|p| match p {
                Value::Object(_) => read::<PlanRef>(p)?.plan_id.required(),
                _ => Text::<PlanId>::default().required(),
            })
            .collect::<Result<Vec<_>, _>>()
    }

    pub(super) fn multi_attach(&mut self, body: &Value) -> Outcome {
        let MultiAttachBody {
            customer_id,
            entity_id,
            plans,
            success_url,
            customer_data,
        } = read(body)?;
        let customer_id = customer_id.required()?;
        let plan_ids = Self::multi_plan_ids(plans.as_ref())?;
        self.ensure_customer(&customer_id, customer_data.as_ref())?;
        self.attach_plans(
            &customer_id,
            entity_id.0.as_deref(),
            &plan_ids,
            success_url.0,
        )
    }

    pub(super) fn preview(
        &mut self,
        customer_id: &str,
        entity_id: Option<&str>,
        plan_ids: &[String],
    ) -> Outcome {
        let payment_method = self.existing(customer_id)?.payment_method;
        let account = self.account(customer_id, entity_id)?;
        let now = self.now;
        let mut line_items = Vec::new();
        let mut next_items = Vec::new();
        let mut incoming = Vec::new();
        let mut outgoing = Vec::new();
        let mut total = 0.0;
        let mut next_total = 0.0;
        let mut next_start: Option<i64> = None;
        let mut charges = false;
        for plan_id in plan_ids {
            let plan = self.plan(plan_id)?;
            let action = action(&self.catalog, account, plan);
            let mut effective_at = Some(now);
            match &action {
                Action::Upgrade { current } => {
                    outgoing.push(change(
                        &self.catalog,
                        &account.subs[*current].plan_id,
                        Some(now),
                        Some(now),
                    ));
                }
                Action::Downgrade { current } => {
                    let sub = &account.subs[*current];
                    let ends = sub.period_end.unwrap_or(now);
                    effective_at = Some(ends);
                    outgoing.push(change(&self.catalog, &sub.plan_id, Some(now), Some(ends)));
                }
                Action::Nothing { scheduled } => {
                    return Err(Reply::error(
                        400,
                        "plan_already_attached",
                        format!(
                            "Plan {plan_id:?} is already {} for this customer",
                            if *scheduled { "scheduled" } else { "active" }
                        ),
                    ));
                }
                _ => {}
            }
            let mut entry = change(&self.catalog, &plan.id, None, None);
            entry["effective_at"] = json!(effective_at);
            incoming.push(entry);
            let Some(price) = plan.price.filter(|p| p.amount > 0.0) else {
                continue;
            };
            let recurring = price.interval != Interval::OneOff;
            let period_end = time::step(now, price.interval, 1);
            let mut line = json!({
                "display_name": plan.name,
                "description": format!("{} - {} {}", plan.name, render::dollars(price.amount), price.interval.as_str().replace('_', "-")),
                "subtotal": price.amount,
                "total": price.amount,
                "discounts": [],
                "plan_id": plan.id,
                "feature_id": null,
                                "quantity": 1,
            });
            if let Some(end) = period_end {
                line["period"] = json!({ "start": now, "end": end });
            }
            if action.charges(plan) {
                charges = true;
                total += price.amount;
                line_items.push(line.clone());
            }
            if recurring {
                let starts = match &action {
                    Action::Downgrade { current } => {
                        account.subs[*current].period_end.unwrap_or(now)
                    }
                    _ => period_end.unwrap_or(now),
                };
                next_start = Some(next_start.map_or(starts, |s: i64| s.min(starts)));
                next_total += price.amount;
                next_items.push(line);
            }
        }
        let redirect = charges && !payment_method;
        let mut answer = json!({
            "customer_id": customer_id,
            "line_items": line_items,
            "subtotal": total,
            "total": total,
            "currency": "usd",
            "incoming": incoming,
            "outgoing": outgoing,
            "redirect_to_checkout": redirect,
            "checkout_type": if redirect { json!("stripe_checkout") } else { Value::Null },
        });
        if let Some(starts_at) = next_start {
            answer["next_cycle"] = json!({
                "starts_at": starts_at,
                "subtotal": next_total,
                "total": next_total,
                "line_items": next_items,
                "usage_line_items": [],
            });
        }
        Ok(answer)
    }

    pub(super) fn preview_attach(&mut self, body: &Value) -> Outcome {
        let AttachBody {
            customer_id,
            plan_id,
            entity_id,
            customer_data,
            ..
        } = read(body)?;
        let customer_id = customer_id.required()?;
        let plan_id = plan_id.required()?;
        self.ensure_customer(&customer_id, customer_data.as_ref())?;
        self.preview(&customer_id, entity_id.0.as_deref(), &[plan_id])
    }

    pub(super) fn preview_multi_attach(&mut self, body: &Value) -> Outcome {
        let MultiAttachBody {
            customer_id,
            entity_id,
            plans,
            customer_data,
            ..
        } = read(body)?;
        let customer_id = customer_id.required()?;
        let plan_ids = Self::multi_plan_ids(plans.as_ref())?;
        self.ensure_customer(&customer_id, customer_data.as_ref())?;
        self.preview(&customer_id, entity_id.0.as_deref(), &plan_ids)
    }

    /// `billing.update`: cancel at the end of the cycle, cancel now, or uncancel one plan.
    pub(super) fn billing_update(&mut self, body: &Value) -> Outcome {
        self.update(body, false)
    }

    /// `billing.preview_update`: what `billing.update` would do, changing nothing.
    pub(super) fn preview_update(&mut self, body: &Value) -> Outcome {
        self.update(body, true)
    }

    fn update(&mut self, body: &Value, preview: bool) -> Outcome {
        let UpdateBody {
            customer_id,
            entity_id,
            cancel_action: cancel,
            plan_id,
            subscription_id,
        } = read(body)?;
        let customer_id = customer_id.required()?;
        let (entity_id, cancel) = (entity_id.0, cancel.0);
        for field in ["feature_quantities", "customize", "license_quantities"] {
            if cancel.is_none() && body.get(field).is_some_and(|v| !v.is_null()) {
                return Err(Reply::error(
                    501,
                    "not_implemented",
                    format!(
                        "The offline Autumn does not implement `{field}` in POST /v1/billing.update \
                         (it has no prepaid quantities or custom plans); it implements \
                         `cancel_action`"
                    ),
                ));
            }
        }
        let update = self.plan_update(
            &customer_id,
            entity_id.as_deref(),
            plan_id.0.as_deref(),
            subscription_id.0.as_deref(),
            cancel.as_deref(),
        )?;
        if preview {
            let mut answer = self.update_preview(&customer_id, &update);
            answer["intent"] = json!(update.intent);
            return Ok(answer);
        }
        self.carry_out(&customer_id, &update)?;
        let mut answer = json!({ "customer_id": customer_id, "payment_url": null });
        if let Some(e) = entity_id {
            answer["entity_id"] = json!(e);
        }
        Ok(answer)
    }

    /// `billing.multi_update`: several `billing.update`s in one call, all or none: every update is
    /// checked before any is carried out.
    pub(super) fn multi_update(&mut self, body: &Value) -> Outcome {
        let (customer_id, entity_id, updates) = self.multi_updates(body)?;
        for update in &updates {
            self.carry_out(&customer_id, update)?;
        }
        let mut answer = json!({ "customer_id": customer_id, "payment_url": null });
        if let Some(e) = entity_id {
            answer["entity_id"] = json!(e);
        }
        Ok(answer)
    }

    /// `billing.preview_multi_update`: one `billing.preview_update` per update, changing nothing.
    pub(super) fn preview_multi_update(&mut self, body: &Value) -> Outcome {
        let (customer_id, _, updates) = self.multi_updates(body)?;
        let subscriptions: Vec<Value> = updates
            .iter()
            .map(|update| {
                let mut preview = self.update_preview(&customer_id, update);
                preview["plan_ids"] = json!([update.plan_id]);
                preview
            })
            .collect();
        Ok(json!({
            "customer_id": customer_id,
            "currency": "usd",
            "total": 0,
            "subscriptions": subscriptions,
        }))
    }

    /// Reads and resolves the `updates` of a multi-update: at most [`MAX_IDS`], each with a
    /// `cancel_action`, no two on the same subscription.
    fn multi_updates(
        &self,
        body: &Value,
    ) -> Result<(String, Option<String>, Vec<PlannedUpdate>), Reply> {
        let MultiUpdateBody {
            customer_id,
            entity_id,
            updates: items,
        } = read(body)?;
        let (customer_id, entity_id) = (customer_id.required()?, entity_id.0);
        let items = items
            .as_ref()
            .and_then(Value::as_array)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| bad("`updates` must be a non-empty array"))?;
        if items.len() > MAX_IDS {
            return Err(bad(format!(
                "`updates` has {} entries: at most {MAX_IDS}",
                items.len()
            )));
        }
        let mut updates: Vec<PlannedUpdate> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if !item.is_object() {
                return Err(bad(format!("`updates[{i}]` must be an object")));
            }
            let within = |e: Reply| match e.status {
                400 => bad(format!(
                    "`updates[{i}]`: {}",
                    e.body["message"].as_str().unwrap_or_default()
                )),
                _ => e,
            };
            let UpdateItem {
                cancel_action,
                entity_id: item_entity,
                plan_id,
                subscription_id,
            } = read(item).map_err(within)?;
            let cancel = cancel_action.required().map_err(within)?;
            let update = self
                .plan_update(
                    &customer_id,
                    item_entity.0.or_else(|| entity_id.clone()).as_deref(),
                    plan_id.0.as_deref(),
                    subscription_id.0.as_deref(),
                    Some(&cancel),
                )
                .map_err(within)?;
            if let Some(j) = updates
                .iter()
                .position(|u| u.entity_id == update.entity_id && u.sub_id == update.sub_id)
            {
                return Err(bad(format!(
                    "`updates[{j}]` and `updates[{i}]` both change the plan {:?}",
                    update.plan_id
                )));
            }
            updates.push(update);
        }
        Ok((customer_id, entity_id, updates))
    }

    /// Finds the subscription an update changes (by `plan_id`, else `subscription_id`, else the
    /// main plan outside any group) and what it does, without changing anything.
    fn plan_update(
        &self,
        customer_id: &str,
        entity_id: Option<&str>,
        plan_id: Option<&str>,
        subscription_id: Option<&str>,
        cancel: Option<&str>,
    ) -> Result<PlannedUpdate, Reply> {
        let now = self.now;
        let account = self.account(customer_id, entity_id)?;
        let sub = account
            .subs
            .iter()
            .find(|s| {
                s.status == Status::Active
                    && match (plan_id, subscription_id) {
                        (Some(p), _) => s.plan_id == p,
                        (None, Some(id)) => s.id == id,
                        (None, None) => self
                            .catalog
                            .plan_by_id(&s.plan_id)
                            .is_some_and(|p| !p.add_on && p.group.is_none()),
                    }
            })
            .ok_or_else(|| {
                Reply::error(
                    404,
                    "subscription_not_found",
                    "No active subscription matches the plan_id or subscription_id given",
                )
            })?;
        let ends = sub.period_end.filter(|end| *end > now).unwrap_or(now);
        let (intent, expires) = match cancel.unwrap_or("none") {
            // Nothing to change: the plan stays as it is.
            "none" => ("none", None),
            "cancel_end_of_cycle" => ("cancel_end_of_cycle", Some(ends)),
            "cancel_immediately" => ("cancel_immediately", Some(now)),
            "uncancel" if sub.canceled_at.is_some() => ("uncancel", None),
            "uncancel" => {
                return Err(bad(format!(
                    "Plan {:?} is not canceled, so it cannot be uncanceled",
                    sub.plan_id
                )))
            }
            other => {
                return Err(bad(format!(
                    "`cancel_action` {other:?} is not one of cancel_end_of_cycle, cancel_immediately, uncancel"
                )))
            }
        };
        Ok(PlannedUpdate {
            entity_id: entity_id.map(str::to_owned),
            sub_id: sub.id.clone(),
            plan_id: sub.plan_id.clone(),
            intent,
            expires,
        })
    }

    /// The preview of one update (`billing.preview_update` without its `intent`).
    fn update_preview(&self, customer_id: &str, update: &PlannedUpdate) -> Value {
        let outgoing = if matches!(update.intent, "uncancel" | "none") {
            vec![]
        } else {
            vec![change(
                &self.catalog,
                &update.plan_id,
                Some(self.now),
                update.expires,
            )]
        };
        json!({
            "customer_id": customer_id,
            "line_items": [],
            "subtotal": 0,
            "total": 0,
            "currency": "usd",
            "incoming": [],
            "outgoing": outgoing,
        })
    }

    /// Carries out an update [`plan_update`](Engine::plan_update) resolved: a canceled plan
    /// ends at `expires`; an uncanceled one renews and its group's scheduled plan is dropped.
    fn carry_out(&mut self, customer_id: &str, update: &PlannedUpdate) -> Result<(), Reply> {
        let now = self.now;
        let Engine {
            catalog, customers, ..
        } = self;
        let account = account_in(customers, customer_id, update.entity_id.as_deref())?;
        let Some(index) = account.subs.iter().position(|s| s.id == update.sub_id) else {
            return Err(Reply::error(
                404,
                "subscription_not_found",
                "No active subscription matches the plan_id or subscription_id given",
            ));
        };
        match update.intent {
            "none" => {}
            "uncancel" => {
                let group = catalog
                    .plan_by_id(&update.plan_id)
                    .and_then(|p| p.group.clone());
                let sub = &mut account.subs[index];
                sub.canceled_at = None;
                sub.expires_at = None;
                drop_scheduled(account, catalog, group.as_deref());
            }
            _ => {
                let sub = &mut account.subs[index];
                sub.canceled_at = Some(now);
                sub.expires_at = update.expires;
            }
        }
        Ok(())
    }
}

/// The body of `billing.attach` and `billing.preview_attach`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct AttachBody {
    customer_id: Text<CustomerId>,
    plan_id: Text<PlanId>,
    entity_id: Text<EntityId>,
    success_url: Text<SuccessUrl>,
    /// Read by [`Engine::ensure_customer`] when the customer is new.
    customer_data: Option<Value>,
}

/// The body of `billing.multi_attach` and `billing.preview_multi_attach`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct MultiAttachBody {
    customer_id: Text<CustomerId>,
    entity_id: Text<EntityId>,
    /// `[{ plan_id }]`, read after its length is checked.
    plans: Option<Value>,
    success_url: Text<SuccessUrl>,
    customer_data: Option<Value>,
}

/// An entry of `plans`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct PlanRef {
    plan_id: Text<PlanId>,
}

/// The body of `billing.update` and `billing.preview_update` (`feature_quantities`, `customize`
/// and `license_quantities` answer 501).
#[derive(Default, Deserialize)]
#[serde(default)]
struct UpdateBody {
    customer_id: Text<CustomerId>,
    entity_id: Text<EntityId>,
    cancel_action: Text<CancelAction>,
    plan_id: Text<PlanId>,
    subscription_id: Text<SubscriptionId>,
}

/// The body of `billing.multi_update` and `billing.preview_multi_update`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct MultiUpdateBody {
    customer_id: Text<CustomerId>,
    entity_id: Text<EntityId>,
    /// `[UpdateItem]`, read after its length is checked.
    updates: Option<Value>,
}

/// An entry of `updates`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct UpdateItem {
    cancel_action: Text<CancelAction>,
    entity_id: Text<EntityId>,
    plan_id: Text<PlanId>,
    subscription_id: Text<SubscriptionId>,
}

/// One update of `billing.update` or `billing.multi_update`, resolved but not carried out.
struct PlannedUpdate {
    entity_id: Option<String>,
    sub_id: String,
    plan_id: String,
    /// `none`, `cancel_end_of_cycle`, `cancel_immediately` or `uncancel`.
    intent: &'static str,
    /// When a canceled plan ends.
    expires: Option<i64>,
}

/// An `incoming`/`outgoing` entry of a preview.
fn change(
    catalog: &Catalog,
    plan_id: &str,
    canceled_at: Option<i64>,
    expires_at: Option<i64>,
) -> Value {
    let mut out = json!({
        "plan_id": plan_id,
        "feature_quantities": [],
        "effective_at": null,
        "canceled_at": canceled_at,
        "expires_at": expires_at,
    });
    if let Some(plan) = catalog.plan_by_id(plan_id) {
        out["plan"] = render::plan(catalog, plan, None);
    }
    out
}
