//! How plans start, replace each other, end and renew on an account, and how allowances reset:
//! the rules every billing operation and the clock share.

use super::super::catalog::{Catalog, Plan};
use super::super::state::{Account, Grant, Status, Sub};
use super::super::time;

/// What attaching a plan to an account would do.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Action {
    /// Start it (nothing it replaces).
    Activate,
    /// Replace the current plan of its group now (the new one costs as much or more).
    Upgrade { current: usize },
    /// Replace the current plan of its group at the end of its period (the new one costs less).
    Downgrade { current: usize },
    /// A one-off purchase, added beside everything else.
    Purchase,
    /// Undo a pending cancellation of this very plan.
    Renew { current: usize },
    /// It is already active (or already scheduled).
    Nothing { scheduled: bool },
}

impl Action {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Action::Activate | Action::Renew { .. } => "activate",
            Action::Upgrade { .. } => "upgrade",
            Action::Downgrade { .. } => "downgrade",
            Action::Purchase => "purchase",
            Action::Nothing { .. } => "none",
        }
    }

    /// True when carrying it out charges the customer now.
    pub(super) fn charges(&self, plan: &Plan) -> bool {
        plan.is_paid()
            && matches!(
                self,
                Action::Activate | Action::Upgrade { .. } | Action::Purchase
            )
    }
}

/// What attaching `plan` to `account` does (see [`Action`]).
pub(super) fn action(catalog: &Catalog, account: &Account, plan: &Plan) -> Action {
    if plan.is_one_off() {
        return Action::Purchase;
    }
    if let Some(i) = account.subs.iter().position(|s| s.plan_id == plan.id) {
        let sub = &account.subs[i];
        return match (sub.status, sub.canceled_at) {
            (Status::Scheduled, _) => Action::Nothing { scheduled: true },
            (Status::Active, Some(_)) => Action::Renew { current: i },
            (Status::Active, None) => Action::Nothing { scheduled: false },
        };
    }
    if plan.add_on {
        return Action::Activate;
    }
    let current = account.subs.iter().position(|s| {
        s.status == Status::Active
            && catalog
                .plan_by_id(&s.plan_id)
                .is_some_and(|p| !p.add_on && p.group == plan.group)
    });
    match current {
        None => Action::Activate,
        Some(i) => {
            let current_amount = catalog
                .plan_by_id(&account.subs[i].plan_id)
                .map_or(0.0, Plan::amount);
            if plan.amount() >= current_amount {
                Action::Upgrade { current: i }
            } else {
                Action::Downgrade { current: i }
            }
        }
    }
}

/// The allowance a plan item gives from `now`.
pub(super) fn grant(
    item: &super::super::catalog::PlanItem,
    plan: &Plan,
    sub_id: Option<String>,
    id: String,
    now: i64,
) -> Grant {
    Grant {
        id,
        feature_id: item.feature_id.clone(),
        plan_id: Some(plan.id.clone()),
        sub_id,
        mirror_of: None,
        included: item.included,
        usage: 0.0,
        unlimited: item.unlimited,
        reset: item.reset,
        anchor: now,
        next_reset_at: item.reset.and_then(|r| time::step(now, r, 1)),
    }
}

/// Starts a recurring plan now: the subscription and its allowances.
pub(super) fn start(account: &mut Account, plan: &Plan, sub_id: String, now: i64, seq: &mut u64) {
    let period_end = plan.price.and_then(|p| time::step(now, p.interval, 1));
    for item in &plan.items {
        *seq += 1;
        account.grants.push(grant(
            item,
            plan,
            Some(sub_id.clone()),
            format!("bal_{seq:06}"),
            now,
        ));
    }
    account.subs.push(Sub {
        id: sub_id,
        plan_id: plan.id.clone(),
        status: Status::Active,
        started_at: now,
        period_start: period_end.map(|_| now),
        period_end,
        canceled_at: None,
        expires_at: None,
    });
}

/// Drops the scheduled (not yet started) plans of a group.
pub(super) fn drop_scheduled(account: &mut Account, catalog: &Catalog, group: Option<&str>) {
    account.subs.retain(|s| {
        s.status != Status::Scheduled
            || catalog
                .plan_by_id(&s.plan_id)
                .is_none_or(|p| p.add_on || p.group.as_deref() != group)
    });
}

/// Keeps an entity's copies of its customer's allowances in step: one per customer grant, with
/// the entity's own usage, reset when the customer's grant resets.
pub(super) fn mirror(customer: &Account, entity: &mut Account) {
    entity.grants.retain(|g| {
        g.mirror_of
            .as_ref()
            .is_none_or(|source| customer.grants.iter().any(|c| &c.id == source))
    });
    for source in customer.grants.iter().filter(|g| g.mirror_of.is_none()) {
        match entity
            .grants
            .iter_mut()
            .find(|g| g.mirror_of.as_deref() == Some(&source.id))
        {
            Some(copy) => {
                if copy.next_reset_at != source.next_reset_at {
                    copy.usage = 0.0;
                    copy.next_reset_at = source.next_reset_at;
                }
                copy.included = source.included;
                copy.unlimited = source.unlimited;
            }
            None => entity.grants.push(Grant {
                mirror_of: Some(source.id.clone()),
                usage: 0.0,
                sub_id: None,
                ..source.clone()
            }),
        }
    }
}

/// Brings one account up to `now` (see [`Engine::settle`](super::Engine::settle)).
pub(super) fn settle_account(
    account: &mut Account,
    catalog: &Catalog,
    now: i64,
    seq: &mut u64,
    default_plan: bool,
) {
    // Plans that ended.
    let ended: Vec<String> = account
        .subs
        .iter()
        .filter(|s| s.status == Status::Active && s.expires_at.is_some_and(|e| e <= now))
        .map(|s| s.id.clone())
        .collect();
    account.subs.retain(|s| !ended.contains(&s.id));
    account
        .grants
        .retain(|g| g.sub_id.as_ref().is_none_or(|id| !ended.contains(id)));
    // Plans that start.
    let starting: Vec<usize> = (0..account.subs.len())
        .filter(|&i| {
            account.subs[i].status == Status::Scheduled && account.subs[i].started_at <= now
        })
        .collect();
    for i in starting.into_iter().rev() {
        let sub = account.subs.remove(i);
        if let Some(plan) = catalog.plan_by_id(&sub.plan_id) {
            start(account, plan, sub.id, sub.started_at, seq);
        }
    }
    // The default plan for a customer left without a main plan.
    if default_plan {
        for plan in catalog.plans.iter().filter(|p| p.auto_enable && !p.add_on) {
            let group_taken = account.subs.iter().any(|s| {
                catalog
                    .plan_by_id(&s.plan_id)
                    .is_some_and(|p| !p.add_on && p.group == plan.group)
            });
            if !group_taken {
                *seq += 1;
                start(account, plan, format!("sub_{seq:06}"), now, seq);
            }
        }
    }
    // Billing periods and allowance resets.
    for sub in &mut account.subs {
        if let (Some(end), Some(price)) = (
            sub.period_end,
            catalog.plan_by_id(&sub.plan_id).and_then(|p| p.price),
        ) {
            if end <= now && sub.expires_at.is_none() {
                let next = time::next_boundary(sub.started_at, price.interval, now);
                sub.period_end = next;
                sub.period_start = next.map(|n| {
                    let mut k = 1;
                    let mut previous = sub.started_at;
                    while let Some(b) = time::step(sub.started_at, price.interval, k) {
                        if b >= n {
                            break;
                        }
                        previous = b;
                        k += 1;
                    }
                    previous
                });
            }
        }
    }
    for grant in account.grants.iter_mut().filter(|g| g.mirror_of.is_none()) {
        if let (Some(at), Some(reset)) = (grant.next_reset_at, grant.reset) {
            if at <= now {
                grant.usage = 0.0;
                grant.next_reset_at = time::next_boundary(grant.anchor, reset, now);
            }
        }
    }
}
