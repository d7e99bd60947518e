//! `plans.*` and `features.*`: reading the catalogue, with a customer's eligibility for each plan.

use serde::Deserialize;
use serde_json::{json, Value};

use super::super::catalog::Plan;
use super::super::render;
use super::super::state::{Account, Status};
use super::input::{read, CustomerId, EntityId, FeatureId, PlanId, Text};
use super::lifecycle::action;
use super::{feature_not_found, Engine, Outcome};

/// The body of `plans.list`: the customer (or entity) whose eligibility to show.
#[derive(Default, Deserialize)]
#[serde(default)]
struct PlansListBody {
    customer_id: Text<CustomerId>,
    entity_id: Text<EntityId>,
}

/// The body of `plans.get`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct PlanRef {
    plan_id: Text<PlanId>,
}

/// The body of `features.get`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct FeatureRef {
    feature_id: Text<FeatureId>,
}

impl Engine {
    pub(super) fn eligibility(&self, account: &Account, plan: &Plan) -> Value {
        let action = action(&self.catalog, account, plan);
        let mut out = json!({
            "trial_available": false,
            "trialing": false,
            "attach_action": action.name(),
        });
        let own = account.subs.iter().find(|s| s.plan_id == plan.id);
        if let Some(sub) = own {
            out["status"] = json!(match sub.status {
                Status::Active => "active",
                Status::Scheduled => "scheduled",
            });
            out["canceling"] = json!(sub.canceled_at.is_some() && sub.status == Status::Active);
        }
        out
    }

    pub(super) fn plans_list(&mut self, body: &Value) -> Outcome {
        let PlansListBody {
            customer_id,
            entity_id,
        } = read(body)?;
        let (customer_id, entity_id) = (customer_id.0, entity_id.0);
        let account = match &customer_id {
            Some(id) => match self.account(id, entity_id.as_deref()) {
                Ok(a) => Some(a),
                // Like Autumn: an unknown customer sees the plans without eligibility.
                Err(r) if r.status == 404 && entity_id.is_none() => None,
                Err(r) => return Err(r),
            },
            None => None,
        };
        let list: Vec<Value> = self
            .catalog
            .plans
            .iter()
            .map(|p| {
                let eligibility = account.map(|a| self.eligibility(a, p));
                render::plan(&self.catalog, p, eligibility)
            })
            .collect();
        Ok(json!({ "list": list }))
    }

    pub(super) fn plans_get(&mut self, body: &Value) -> Outcome {
        let id = read::<PlanRef>(body)?.plan_id.required()?;
        let plan = self.plan(&id)?;
        Ok(render::plan(&self.catalog, plan, None))
    }

    pub(super) fn features_list(&mut self, _body: &Value) -> Outcome {
        Ok(json!({
            "list": self.catalog.features.iter().map(render::feature).collect::<Vec<_>>(),
        }))
    }

    pub(super) fn features_get(&mut self, body: &Value) -> Outcome {
        let id = read::<FeatureRef>(body)?.feature_id.required()?;
        self.catalog
            .feature_by_id(&id)
            .map(render::feature)
            .ok_or_else(|| feature_not_found(&id))
    }
}
