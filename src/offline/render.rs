//! The offline Autumn's state as Autumn API JSON (snake_case, every required field present).

use serde_json::{json, Map, Value};

use super::catalog::{Catalog, Feature, FeatureKind, Plan};
use super::state::{Account, Customer, Entity, Grant, Status, Sub};

/// The `env` every object reports: the offline Autumn is a sandbox.
pub(crate) const ENV: &str = "sandbox";

/// A feature as `features.list` and `features.get` answer it.
pub(crate) fn feature(feature: &Feature) -> Value {
    let (kind, consumable) = match feature.kind {
        FeatureKind::Metered => ("metered", true),
        FeatureKind::Boolean => ("boolean", false),
    };
    let mut event_names = vec![Value::String(feature.id.clone())];
    event_names.extend(feature.event_names.iter().cloned().map(Value::String));
    let mut out = json!({
        "id": feature.id,
        "name": feature.name,
        "type": kind,
        "consumable": consumable,
        "event_names": event_names,
        "archived": false,
    });
    if let Some(display) = &feature.display {
        out["display"] = json!({ "singular": display.singular, "plural": display.plural });
    }
    out
}

fn plural(feature: Option<&Feature>, amount: f64) -> String {
    match feature.and_then(|f| f.display.as_ref()) {
        Some(d) if amount == 1.0 => d.singular.clone(),
        Some(d) => d.plural.clone(),
        None => feature.map_or_else(String::new, |f| f.name.to_lowercase()),
    }
}

/// A whole number without a fraction, others with their digits (`2000`, `0.5`).
pub(crate) fn number(amount: f64) -> String {
    if amount.fract() == 0.0 && amount.abs() < 1e15 {
        format!("{}", amount as i64)
    } else {
        format!("{amount}")
    }
}

/// `$20` or `$4.50`.
pub(crate) fn dollars(amount: f64) -> String {
    if amount.fract() == 0.0 {
        format!("${}", number(amount))
    } else {
        format!("${amount:.2}")
    }
}

fn per(interval: super::catalog::Interval) -> &'static str {
    use super::catalog::Interval::*;
    match interval {
        OneOff => "one-time",
        Day => "per day",
        Week => "per week",
        Month => "per month",
        Year => "per year",
    }
}

/// A plan as `plans.list` and `plans.get` answer it, with `customer_eligibility` when given.
pub(crate) fn plan(catalog: &Catalog, plan: &Plan, eligibility: Option<Value>) -> Value {
    let price = plan.price.map_or(Value::Null, |p| {
        json!({
            "amount": p.amount,
            "interval": p.interval.as_str(),
            "interval_count": 1,
            "display": { "primary_text": dollars(p.amount), "secondary_text": per(p.interval) },
        })
    });
    let items: Vec<Value> = plan
        .items
        .iter()
        .map(|item| {
            let feature = catalog.feature_by_id(&item.feature_id);
            let boolean = feature.is_some_and(|f| f.kind == FeatureKind::Boolean);
            let primary = if boolean {
                feature.map_or_else(|| item.feature_id.clone(), |f| f.name.clone())
            } else if item.unlimited {
                format!("Unlimited {}", plural(feature, 2.0))
            } else {
                format!(
                    "{} {}",
                    number(item.included),
                    plural(feature, item.included)
                )
            };
            let mut display = json!({ "primary_text": primary });
            if let Some(reset) = item.reset {
                display["secondary_text"] = json!(per(reset));
            }
            json!({
                "feature_id": item.feature_id,
                "feature": {
                    "id": item.feature_id,
                    "name": feature.map(|f| f.name.clone()),
                    "type": if boolean { "boolean" } else { "single_use" },
                    "display": feature.and_then(|f| f.display.as_ref()).map(|d| {
                        json!({ "singular": d.singular, "plural": d.plural })
                    }),
                    "archived": false,
                },
                "included": item.included,
                "unlimited": item.unlimited,
                "reset": item.reset.map(|r| json!({ "interval": r.as_str(), "interval_count": 1 })),
                "price": null,
                "display": display,
            })
        })
        .collect();
    let mut out = json!({
        "id": plan.id,
        "name": plan.name,
        "description": plan.description,
        "group": plan.group,
        "version": 1,
        "add_on": plan.add_on,
        "auto_enable": plan.auto_enable,
        "price": price,
        "items": items,
        "created_at": 0,
        "env": ENV,
        "archived": false,
        "base_variant_id": null,
        "config": {},
        "metadata": {},
    });
    if let Some(eligibility) = eligibility {
        out["customer_eligibility"] = eligibility;
    }
    out
}

/// The feature object embedded in balances and flags.
fn balance_feature(feature: &Feature) -> Value {
    let mut out = self::feature(feature);
    if out.get("display").is_none() {
        out["display"] = json!({ "singular": null, "plural": null });
    }
    out
}

/// The balance of one metered feature, summed over the grants that give it.
pub(crate) fn balance(feature: &Feature, grants: &[&Grant]) -> Value {
    let unlimited = grants.iter().any(|g| g.unlimited);
    let granted: f64 = grants
        .iter()
        .filter(|g| !g.unlimited)
        .map(|g| g.included)
        .sum();
    let usage: f64 = grants.iter().map(|g| g.usage).sum();
    let remaining = if unlimited { 0.0 } else { granted - usage };
    let next_reset_at = grants.iter().filter_map(|g| g.next_reset_at).min();
    let breakdown: Vec<Value> = grants
        .iter()
        .map(|g| {
            json!({
                "id": g.id,
                "plan_id": g.plan_id,
                "included_grant": g.included,
                "prepaid_grant": 0,
                "remaining": if g.unlimited { 0.0 } else { g.included - g.usage },
                "usage": g.usage,
                "unlimited": g.unlimited,
                "reset": g.reset.map(|r| json!({
                    "interval": r.as_str(),
                    "interval_count": 1,
                    "resets_at": g.next_reset_at,
                })),
                "price": null,
                "expires_at": null,
            })
        })
        .collect();
    json!({
        "feature_id": feature.id,
        "feature": balance_feature(feature),
        "granted": granted,
        "remaining": remaining,
        "usage": usage,
        "unlimited": unlimited,
        "overage_allowed": false,
        "max_purchase": null,
        "next_reset_at": next_reset_at,
        "breakdown": breakdown,
    })
}

/// The flag of a boolean feature granted by `grant`.
pub(crate) fn flag(feature: &Feature, grant: &Grant) -> Value {
    json!({
        "id": grant.id,
        "plan_id": grant.plan_id,
        "expires_at": null,
        "feature_id": feature.id,
        "feature": balance_feature(feature),
    })
}

/// The `balances` and `flags` maps of an account.
pub(crate) fn balances_and_flags(catalog: &Catalog, account: &Account) -> (Value, Value) {
    let mut balances = Map::new();
    let mut flags = Map::new();
    for feature in &catalog.features {
        let grants: Vec<&Grant> = account
            .grants
            .iter()
            .filter(|g| g.feature_id == feature.id)
            .collect();
        let Some(first) = grants.first() else {
            continue;
        };
        match feature.kind {
            FeatureKind::Metered => {
                balances.insert(feature.id.clone(), balance(feature, &grants));
            }
            FeatureKind::Boolean => {
                flags.insert(feature.id.clone(), flag(feature, first));
            }
        }
    }
    (Value::Object(balances), Value::Object(flags))
}

fn subscription(catalog: &Catalog, sub: &Sub, scope: &str, expand_plan: bool) -> Value {
    let plan = catalog.plan_by_id(&sub.plan_id);
    let mut out = json!({
        "id": sub.id,
        "plan_id": sub.plan_id,
        "auto_enable": plan.is_some_and(|p| p.auto_enable),
        "add_on": plan.is_some_and(|p| p.add_on),
        "status": match sub.status { Status::Active => "active", Status::Scheduled => "scheduled" },
        "past_due": false,
        "canceled_at": sub.canceled_at,
        "expires_at": sub.expires_at,
        "trial_ends_at": null,
        "started_at": sub.started_at,
        "current_period_start": sub.period_start,
        "current_period_end": sub.period_end,
        "quantity": 1,
        "scope": scope,
    });
    if let (true, Some(p)) = (expand_plan, plan) {
        out["plan"] = self::plan(catalog, p, None);
    }
    out
}

/// The subscriptions and purchases of an account.
fn plans_of(
    catalog: &Catalog,
    account: &Account,
    scope: &str,
    expand: &[String],
) -> (Value, Value) {
    let expand_subs = expand.iter().any(|e| e == "subscriptions.plan");
    let expand_purchases = expand.iter().any(|e| e == "purchases.plan");
    let subs = account
        .subs
        .iter()
        .map(|s| subscription(catalog, s, scope, expand_subs))
        .collect();
    let purchases = account
        .purchases
        .iter()
        .map(|p| {
            let mut out = json!({
                "plan_id": p.plan_id,
                "expires_at": null,
                "started_at": p.started_at,
                "quantity": p.quantity,
                "scope": scope,
            });
            if let (true, Some(plan)) = (expand_purchases, catalog.plan_by_id(&p.plan_id)) {
                out["plan"] = self::plan(catalog, plan, None);
            }
            out
        })
        .collect();
    (Value::Array(subs), Value::Array(purchases))
}

/// A customer, as every `customers.*` operation answers it.
pub(crate) fn customer(catalog: &Catalog, customer: &Customer, expand: &[String]) -> Value {
    let (subscriptions, purchases) = plans_of(catalog, &customer.account, "customer", expand);
    let (balances, flags) = balances_and_flags(catalog, &customer.account);
    let mut out = json!({
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "created_at": customer.created_at,
        "fingerprint": customer.fingerprint,
        "stripe_id": customer.stripe_id,
        "env": ENV,
        "metadata": customer.metadata,
        "send_email_receipts": false,
        "billing_controls": {},
        "subscriptions": subscriptions,
        "purchases": purchases,
        "licenses": [],
        "balances": balances,
        "flags": flags,
    });
    if let Some(stripe_id) = &customer.stripe_id {
        out["processors"] = json!({ "stripe": { "id": stripe_id } });
    }
    if expand.iter().any(|e| e == "entities") {
        out["entities"] = customer
            .entities
            .values()
            .map(|e| {
                json!({
                    "id": e.id,
                    "name": e.name,
                    "customer_id": customer.id,
                    "feature_id": e.feature_id,
                    "created_at": e.created_at,
                    "env": ENV,
                })
            })
            .collect();
    }
    if expand.iter().any(|e| e == "invoices") {
        out["invoices"] = customer
            .invoices
            .iter()
            .map(|i| {
                json!({
                    "plan_ids": i.plan_ids,
                    "stripe_id": i.stripe_id,
                    "processor_type": "stripe",
                    "status": "paid",
                    "total": i.total,
                    "currency": "usd",
                    "created_at": i.created_at,
                    "hosted_invoice_url": null,
                })
            })
            .collect();
    }
    out
}

/// An entity, as every `entities.*` operation answers it.
pub(crate) fn entity(catalog: &Catalog, customer_id: &str, entity: &Entity) -> Value {
    let (subscriptions, purchases) = plans_of(catalog, &entity.account, "entity", &[]);
    let (balances, flags) = balances_and_flags(catalog, &entity.account);
    json!({
        "id": entity.id,
        "name": entity.name,
        "customer_id": customer_id,
        "feature_id": entity.feature_id,
        "created_at": entity.created_at,
        "env": ENV,
        "subscriptions": subscriptions,
        "purchases": purchases,
        "balances": balances,
        "flags": flags,
    })
}

/// A plan in the older product shape that `balances.check`'s `preview.products` lists.
pub(crate) fn preview_product(catalog: &Catalog, plan: &Plan, scenario: &str) -> Value {
    let mut items: Vec<Value> = Vec::new();
    if let Some(price) = plan.price {
        items.push(json!({
            "type": "price",
            "feature_id": null,
            "interval": if price.interval == super::catalog::Interval::OneOff {
                Value::Null
            } else {
                json!(price.interval.as_str())
            },
            "price": price.amount,
        }));
    }
    for item in &plan.items {
        let boolean = catalog
            .feature_by_id(&item.feature_id)
            .is_some_and(|f| f.kind == FeatureKind::Boolean);
        items.push(json!({
            "type": "feature",
            "feature_id": item.feature_id,
            "feature_type": if boolean { "boolean" } else { "single_use" },
            "included_usage": if item.unlimited { json!("inf") } else { json!(item.included) },
            "interval": item.reset.map(|r| r.as_str()),
        }));
    }
    json!({
        "id": plan.id,
        "name": plan.name,
        "group": plan.group,
        "env": ENV,
        "is_add_on": plan.add_on,
        "is_default": plan.auto_enable,
        "archived": false,
        "version": 1,
        "created_at": 0,
        "items": items,
        "free_trial": null,
        "base_variant_id": null,
        "scenario": scenario,
    })
}
