//! `plans.*` and `features.*`: reading the catalogue, with a customer's eligibility for each plan.

use serde_json::{json, Value};

use super::super::catalog::Plan;
use super::super::render;
use super::input::{required, string};
use super::lifecycle::action;
use super::state::{Account, Status};
use super::{feature_not_found, Engine, Outcome};

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
        let customer_id = string(body, "customer_id")?;
        let entity_id = string(body, "entity_id")?;
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
        let id = required(body, "plan_id")?;
        let plan = self.plan(&id)?;
        Ok(render::plan(&self.catalog, plan, None))
    }

    pub(super) fn features_list(&mut self, _body: &Value) -> Outcome {
        Ok(json!({
            "list": self.catalog.features.iter().map(render::feature).collect::<Vec<_>>(),
        }))
    }

    pub(super) fn features_get(&mut self, body: &Value) -> Outcome {
        let id = required(body, "feature_id")?;
        self.catalog
            .feature_by_id(&id)
            .map(render::feature)
            .ok_or_else(|| feature_not_found(&id))
    }
}
