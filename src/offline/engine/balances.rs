//! `balances.check`, `track` and `finalize`: reading a balance, drawing usage from the
//! allowances, holding units under a lock, and the paywall preview of a denied check.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::super::catalog::FeatureKind;
use super::super::render;
use super::super::state::{Event, Grant, Hold};
use super::input::{
    read, Amount, CustomerId, Enabled, EntityId, EventName, ExpiresAt, FeatureId, FinalizeAction,
    Flag, Later, LockId, Number, Object, OverageBehavior, OverrideValue, Properties,
    RequiredBalance, SendEvent, Text, WithPreview,
};
use super::lifecycle::{action, Action};
use super::{account_in, bad, feature_not_found, Engine, Outcome, Reply};

/// The body of `balances.check`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct CheckBody {
    customer_id: Text<CustomerId>,
    feature_id: Text<FeatureId>,
    entity_id: Text<EntityId>,
    /// At most [`MAX_AMOUNT`](super::MAX_AMOUNT) either way; 1 when missing.
    required_balance: Number<RequiredBalance>,
    /// Read only when the check is allowed and holds no lock.
    send_event: Later<Flag<SendEvent>>,
    /// Read only when the check is denied.
    with_preview: Later<Flag<WithPreview>>,
    /// A [`LockBody`], read once the feature and the customer are known.
    lock: Option<Value>,
    /// Read by [`Engine::ensure_customer`] when the customer is new.
    customer_data: Option<Value>,
}

/// A check's `lock`: the other fields are read only when it is enabled.
#[derive(Default, Deserialize)]
#[serde(default)]
struct LockBody {
    enabled: Flag<Enabled>,
    lock_id: Later<Text<LockId>>,
    /// In milliseconds since the epoch.
    expires_at: Later<Number<ExpiresAt>>,
}

/// The body of `balances.finalize`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct FinalizeBody {
    lock_id: Text<LockId>,
    action: Text<FinalizeAction>,
    override_value: Number<OverrideValue>,
    properties: Object<Properties>,
}

/// The body of `balances.track`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct TrackBody {
    customer_id: Text<CustomerId>,
    entity_id: Text<EntityId>,
    feature_id: Text<FeatureId>,
    event_name: Text<EventName>,
    /// At most [`MAX_AMOUNT`](super::MAX_AMOUNT) either way; 1 when missing.
    value: Number<Amount>,
    overage_behavior: Text<OverageBehavior>,
    properties: Object<Properties>,
    /// Read by [`Engine::ensure_customer`] when the customer is new.
    customer_data: Option<Value>,
}

impl Engine {
    /// The metered feature `track` should draw down for a feature id or an event name.
    fn tracked_feature(
        &self,
        feature_id: Option<String>,
        event_name: Option<String>,
    ) -> Result<(String, Option<String>), Reply> {
        let feature_id = match (feature_id, &event_name) {
            (Some(f), _) => f,
            (None, Some(event)) => self
                .catalog
                .features
                .iter()
                .find(|f| &f.id == event || f.event_names.contains(event))
                .map(|f| f.id.clone())
                .ok_or_else(|| {
                    Reply::error(
                        404,
                        "feature_not_found",
                        format!("No feature is tracked by the event name {event:?}"),
                    )
                })?,
            (None, None) => return Err(bad("`feature_id` or `event_name` is required")),
        };
        Ok((feature_id, event_name))
    }

    pub(super) fn check(&mut self, body: &Value) -> Outcome {
        let CheckBody {
            customer_id,
            feature_id,
            entity_id,
            required_balance,
            send_event,
            with_preview,
            lock: lock_body,
            customer_data,
        } = read(body)?;
        let customer_id = customer_id.required()?;
        let feature_id = feature_id.required()?;
        let entity_id = entity_id.0;
        let required_balance = required_balance.amount()?.unwrap_or(1.0);
        let feature = self
            .catalog
            .feature_by_id(&feature_id)
            .ok_or_else(|| feature_not_found(&feature_id))?
            .clone();
        self.ensure_customer(&customer_id, customer_data.as_ref())?;
        let account = self.account(&customer_id, entity_id.as_deref())?;
        let grants: Vec<&Grant> = account
            .grants
            .iter()
            .filter(|g| g.feature_id == feature_id)
            .collect();
        let (allowed, balance, flag) = match feature.kind {
            FeatureKind::Boolean => match grants.first() {
                Some(g) => (true, Value::Null, render::flag(&feature, g)),
                None => (false, Value::Null, Value::Null),
            },
            FeatureKind::Metered if grants.is_empty() => (false, Value::Null, Value::Null),
            FeatureKind::Metered => {
                let unlimited = grants.iter().any(|g| g.unlimited);
                let remaining: f64 = grants.iter().map(|g| g.remaining()).sum();
                (
                    unlimited || remaining >= required_balance,
                    render::balance(&feature, &grants),
                    Value::Null,
                )
            }
        };
        let mut answer = json!({
            "allowed": allowed,
            "customer_id": customer_id,
            "entity_id": entity_id,
            "required_balance": required_balance,
            "balance": balance,
            "flag": flag,
        });
        let lock = lock(lock_body.as_ref())?;
        if let Some((lock_id, _)) = &lock {
            if self.locks.contains_key(lock_id) {
                return Err(Reply::error(
                    409,
                    "lock_already_exists",
                    format!("The lock {lock_id:?} is already held; finalize it first"),
                ));
            }
        }
        if let (Some((lock_id, expires_at)), true) =
            (lock, allowed && feature.kind == FeatureKind::Metered)
        {
            let mut held = self.deduct(
                &customer_id,
                entity_id.as_deref(),
                &feature_id,
                required_balance,
                false,
                Map::new(),
            )?;
            answer["balance"] = held["balance"].take();
            let event = self
                .events
                .pop()
                .ok_or_else(|| Reply::error(500, "internal_error", "the hold left no event"))?;
            self.locks.insert(
                lock_id,
                Hold {
                    customer_id: customer_id.clone(),
                    entity_id: entity_id.clone(),
                    feature_id: feature_id.clone(),
                    amount: required_balance,
                    event,
                    expires_at,
                },
            );
        } else if allowed && feature.kind == FeatureKind::Metered && send_event.get()?.0 {
            let mut tracked = self.deduct(
                &customer_id,
                entity_id.as_deref(),
                &feature_id,
                required_balance,
                false,
                Map::new(),
            )?;
            answer["balance"] = tracked["balance"].take();
        }
        if !allowed && with_preview.get()?.0 {
            answer["preview"] = self.paywall(&customer_id, entity_id.as_deref(), &feature)?;
        }
        Ok(answer)
    }

    /// `balances.finalize`: `confirm` keeps what the lock holds (or records `override_value`
    /// instead) and records the event; `release` gives the units back.
    pub(super) fn finalize(&mut self, body: &Value) -> Outcome {
        let FinalizeBody {
            lock_id,
            action,
            override_value,
            properties,
        } = read(body)?;
        let lock_id = lock_id.required()?;
        let action = action.required()?;
        let override_value = override_value.0;
        let properties = properties.0;
        if action != "confirm" && action != "release" {
            return Err(bad(format!(
                "`action` {action:?} is not one of confirm, release"
            )));
        }
        if override_value.is_some_and(|v| v < 0.0) {
            return Err(bad("`override_value` must not be negative"));
        }
        let hold = self.locks.remove(&lock_id).ok_or_else(|| {
            Reply::error(
                404,
                "lock_not_found",
                format!(
                    "No lock {lock_id:?} is held: it was never taken, already finalized or expired"
                ),
            )
        })?;
        if action == "release" {
            self.give_back(&hold);
            return Ok(json!({ "success": true }));
        }
        match override_value {
            Some(value) if value != hold.amount => {
                self.give_back(&hold);
                self.deduct(
                    &hold.customer_id,
                    hold.entity_id.as_deref(),
                    &hold.feature_id,
                    value,
                    false,
                    properties,
                )?;
            }
            _ => {
                let mut event = hold.event;
                event.timestamp = self.now;
                event.properties.extend(properties);
                self.events.push(event);
            }
        }
        Ok(json!({ "success": true }))
    }

    /// Returns what a hold drew to the allowances it drew from.
    pub(super) fn give_back(&mut self, hold: &Hold) {
        let Ok(account) = account_in(
            &mut self.customers,
            &hold.customer_id,
            hold.entity_id.as_deref(),
        ) else {
            return; // the customer or entity is gone, and its balances with it
        };
        for d in &hold.event.deductions {
            let (Some(id), Some(value)) = (d["balance_id"].as_str(), d["value"].as_f64()) else {
                continue;
            };
            if let Some(g) = account.grants.iter_mut().find(|g| g.id == id) {
                g.usage = (g.usage - value).max(0.0);
            }
        }
    }

    /// The `preview` of a denied check: which plans would grant the feature.
    pub(super) fn paywall(
        &self,
        customer_id: &str,
        entity_id: Option<&str>,
        feature: &super::super::catalog::Feature,
    ) -> Outcome {
        let account = self.account(customer_id, entity_id)?;
        let (scenario, title, message) = match feature.kind {
            FeatureKind::Boolean => (
                "feature_flag",
                format!("Upgrade to use {}", feature.name),
                format!("Your current plan does not include {}.", feature.name),
            ),
            FeatureKind::Metered => (
                "usage_limit",
                format!("You have run out of {}", feature.name.to_lowercase()),
                format!(
                    "You have used all your {} for now. Upgrade or buy more to continue.",
                    feature.name.to_lowercase()
                ),
            ),
        };
        let products: Vec<Value> = self
            .catalog
            .plans
            .iter()
            .filter(|p| p.items.iter().any(|i| i.feature_id == feature.id))
            .filter_map(|p| {
                let action = action(&self.catalog, account, p);
                let scenario = match action {
                    Action::Nothing { .. } | Action::Downgrade { .. } => return None,
                    Action::Upgrade { .. } => "upgrade",
                    Action::Renew { .. } => "renew",
                    Action::Activate | Action::Purchase => "new",
                };
                Some(render::preview_product(&self.catalog, p, scenario))
            })
            .collect();
        Ok(json!({
            "scenario": scenario,
            "title": title,
            "message": message,
            "feature_id": feature.id,
            "feature_name": feature.name,
            "products": products,
        }))
    }

    pub(super) fn track(&mut self, body: &Value) -> Outcome {
        let TrackBody {
            customer_id,
            entity_id,
            feature_id,
            event_name,
            value,
            overage_behavior,
            properties,
            customer_data,
        } = read(body)?;
        let customer_id = customer_id.required()?;
        let entity_id = entity_id.0;
        let (feature_id, event_name) = self.tracked_feature(feature_id.0, event_name.0)?;
        let feature = self
            .catalog
            .feature_by_id(&feature_id)
            .ok_or_else(|| feature_not_found(&feature_id))?;
        if feature.kind == FeatureKind::Boolean {
            return Err(bad(format!(
                "Feature {feature_id:?} is a boolean feature: there is no usage to track"
            )));
        }
        let value = value.amount()?.unwrap_or(1.0);
        let overflow = match overage_behavior.0.as_deref() {
            None | Some("cap") => false,
            Some("overflow") => true,
            Some(other) => {
                return Err(bad(format!(
                    "`overage_behavior` {other:?} is not one of cap, overflow"
                )))
            }
        };
        let properties = properties.0;
        self.ensure_customer(&customer_id, customer_data.as_ref())?;
        self.account(&customer_id, entity_id.as_deref())?;
        let mut answer = self.deduct(
            &customer_id,
            entity_id.as_deref(),
            &feature_id,
            value,
            overflow,
            properties,
        )?;
        if let Some(event) = event_name {
            answer["event_name"] = json!(event);
        }
        Ok(answer)
    }

    /// Records usage of a metered feature and draws it from the allowances: those that reset
    /// first, then the ones that never do; a negative value gives usage back.
    pub(super) fn deduct(
        &mut self,
        customer_id: &str,
        entity_id: Option<&str>,
        feature_id: &str,
        value: f64,
        overflow: bool,
        properties: Map<String, Value>,
    ) -> Outcome {
        let now = self.now;
        let feature = self
            .catalog
            .feature_by_id(feature_id)
            .cloned()
            .ok_or_else(|| feature_not_found(feature_id))?;
        let event_id = self.next_id("evt");
        let account = self.account_mut(customer_id, entity_id)?;
        let mut order: Vec<usize> = (0..account.grants.len())
            .filter(|&i| account.grants[i].feature_id == feature_id)
            .collect();
        order.sort_by_key(|&i| (account.grants[i].reset.is_none(), i));
        let mut deductions = Vec::new();
        let mut record = |g: &Grant, amount: f64| {
            deductions.push(json!({
                "balance_id": g.id,
                "feature_id": g.feature_id,
                "plan_id": g.plan_id,
                "reset": g.reset.map(|r| json!({
                    "interval": r.as_str(),
                    "interval_count": 1,
                    "resets_at": g.next_reset_at,
                })),
                "value": amount,
            }));
        };
        if value >= 0.0 {
            let mut left = value;
            if let Some(&i) = order.iter().find(|&&i| account.grants[i].unlimited) {
                account.grants[i].usage += left;
                record(&account.grants[i], left);
                left = 0.0;
            }
            for &i in &order {
                if left <= 0.0 {
                    break;
                }
                let g = &mut account.grants[i];
                let take = left.min(g.remaining().max(0.0));
                if take > 0.0 {
                    g.usage += take;
                    left -= take;
                    record(g, take);
                }
            }
            if overflow && left > 0.0 {
                if let Some(&i) = order.first() {
                    account.grants[i].usage += left;
                    record(&account.grants[i], left);
                }
            }
        } else {
            let mut give = -value;
            for &i in order.iter().rev() {
                if give <= 0.0 {
                    break;
                }
                let g = &mut account.grants[i];
                let back = give.min(g.usage.max(0.0));
                if back > 0.0 {
                    g.usage -= back;
                    give -= back;
                    record(g, -back);
                }
            }
        }
        let grants: Vec<&Grant> = order.iter().map(|&i| &account.grants[i]).collect();
        let balance = if grants.is_empty() {
            Value::Null
        } else {
            render::balance(&feature, &grants)
        };
        let mut answer = json!({
            "customer_id": customer_id,
            "value": value,
            "balance": balance,
            "deductions": deductions,
        });
        if let Some(e) = entity_id {
            answer["entity_id"] = json!(e);
        }
        self.events.push(Event {
            id: event_id,
            timestamp: now,
            customer_id: customer_id.to_owned(),
            entity_id: entity_id.map(str::to_owned),
            feature_id: feature_id.to_owned(),
            value,
            properties,
            deductions,
        });
        Ok(answer)
    }
}

/// A check's `lock`: its id and expiry, when it is enabled.
fn lock(lock: Option<&Value>) -> Result<Option<(String, Option<i64>)>, Reply> {
    let lock = match lock {
        None | Some(Value::Null) => return Ok(None),
        Some(l @ Value::Object(_)) => l,
        Some(_) => return Err(bad("`lock` must be an object")),
    };
    let LockBody {
        enabled,
        lock_id,
        expires_at,
    } = read(lock)?;
    if !enabled.0 {
        return Ok(None);
    }
    let id = lock_id
        .get()
        .and_then(Text::required)
        .map_err(|_| bad("`lock.lock_id` is required"))?;
    let expires_at = expires_at.get()?.0.map(|ms| ms as i64);
    Ok(Some((id, expires_at)))
}
