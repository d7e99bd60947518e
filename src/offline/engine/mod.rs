//! The offline Autumn's operations on its state. Everything here is synchronous and in memory;
//! `OfflineAutumn` holds it behind a mutex only for the length of one operation.
//!
//! `mod.rs` holds the engine, its dispatch by operation ([`OPERATIONS`] and [`NOT_IMPLEMENTED`],
//! keyed by the generated operation table) and what every operation shares; the operations live in
//! one file per subject, each reading its body into a serde struct with the field types of
//! `input.rs`. The records themselves are in `super::state`, their JSON in `super::render`.
//!
//! # The rules, and where they live
//!
//! The rules are stated for users in the `offline` module's documentation (section *Rules*); this
//! is the short form, with the code that carries each out. Change both together.
//!
//! - **Every call** first brings every account up to the clock ([`Engine::settle`]): expired locks
//!   give their units back, then `lifecycle::settle_account` ends plans whose `expires_at` passed,
//!   starts scheduled ones, gives a customer left without a main plan in a group that group's
//!   `auto_enable` plan (entities do not get one), rolls billing periods and resets allowances. It
//!   runs again after the call, so a `cancel_immediately` shows at once.
//! - **Attach** (`lifecycle::action` decides, `billing.rs` `apply` carries out): a plan that is not
//!   an add-on replaces the active main plan of its `group`. It costs as much or more: *upgrade*,
//!   now; the old plan's allowances go with their usage, the new ones start at zero with a period
//!   that starts now, and a downgrade scheduled in the group is dropped. It costs less:
//!   *downgrade*, the current plan is canceled to end at its period's end (now without one) and the
//!   new one is scheduled then (replacing any downgrade already scheduled). Add-ons start beside
//!   everything; a one-off plan is a *purchase*, bought again on every attach; a plan already
//!   active or scheduled answers 400 `plan_already_attached`, unless its cancellation is pending,
//!   which the attach undoes (*renew*).
//! - **Charges** (`Action::charges`, `billing.rs` `attach_plans`): no proration. Activation,
//!   upgrade and purchase of a paid plan charge the full price now, with nothing credited for the
//!   replaced plan; downgrades, renewals and cancellations charge and refund nothing; update
//!   previews total 0. A charge without a payment method opens a checkout (`checkout.rs`) and
//!   changes nothing until it is completed; one `multi_attach` is one checkout and one invoice.
//! - **Cancel and uncancel** (`billing.rs` `plan_update`, `carry_out`): the plan is found by
//!   `plan_id`, else `subscription_id`, else the main plan outside any group.
//!   `cancel_end_of_cycle` ends it at its period's end, `cancel_immediately` now, `uncancel` clears
//!   a pending cancellation (400 if there is none) and drops a downgrade scheduled in its group.
//! - **multi_update** (`billing.rs` `multi_updates`): 1 to [`MAX_IDS`] updates, each resolved
//!   against the state before any is carried out; the first failure fails the call (a 400 prefixed
//!   with `` `updates[i]`: ``), and two updates of one subscription are a 400; then each is carried
//!   out in order, which cannot fail.
//! - **Resets and periods** (`lifecycle::settle_account`, `super::time`): an allowance with a
//!   `reset` zeroes its usage when the clock passes its next boundary, counted in calendar steps
//!   from when it was granted; one jump past several boundaries resets once. Periods roll the same
//!   way from the plan's start.
//! - **Check** (`balances.rs` `check`): allowed when an allowance is unlimited or the remaining sum
//!   is at least `required_balance` (default 1), or, for a boolean feature, when a plan grants it.
//! - **Deductions** (`balances.rs` `deduct`): from an unlimited allowance if any, else from the
//!   allowances that reset before the ones that never do, each in grant order; `cap` (default)
//!   draws only what is left, `overflow` puts the rest on the first allowance; a negative value
//!   gives usage back to the never-resetting allowances first, never below zero. Every deduction
//!   records an event, even one that drew nothing.
//! - **Locks and finalize** (`balances.rs` `check`, `finalize`, `give_back`): an allowed check on a
//!   metered feature with an enabled `lock` draws `required_balance` now (capped) and holds it with
//!   its event; `confirm` records the event (or, with a different `override_value`, gives the units
//!   back and draws that instead), `release` and expiry give the units back. A held id is 409
//!   `lock_already_exists`, an unknown one 404 `lock_not_found`.
//! - **Entities** (`lifecycle::mirror`): an entity has a copy of each customer allowance with its
//!   own usage, reset when the customer's resets, gone when it goes, plus its own plans'
//!   allowances.
//! - **Limits** (`input.rs` and the constants below): arrays of at most [`MAX_IDS`], amounts
//!   within [`MAX_AMOUNT`], times up to [`MAX_TIME_MS`], `events.aggregate` within
//!   [`MAX_AGGREGATE_BINS`] and [`MAX_AGGREGATE_CELLS`]; past them, 400 and no change.

mod balances;
mod billing;
mod checkout;
mod customers;
mod entities;
mod events;
mod input;
mod lifecycle;
mod plans;
mod referrals;

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Value};

use self::lifecycle::{mirror, settle_account};
use super::catalog::{Catalog, Plan};
use super::state::{Account, Checkout, Customer, Event, Hold, ReferralCode};
use crate::client::generated as ops;
use crate::client::OperationInfo;

/// An answer: the status and the JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> Reply {
        Reply {
            status,
            body: json!({ "message": message.into(), "code": code }),
        }
    }
}

type Outcome = Result<Value, Reply>;

/// The most entries an array of ids in a request may have (`feature_id`, `plans`): past it, 400.
pub(crate) const MAX_IDS: usize = 100;

/// The most bins one `events.aggregate` answers.
pub(crate) const MAX_AGGREGATE_BINS: usize = 10_000;

/// The most values (bins × features) one `events.aggregate` answers.
pub(crate) const MAX_AGGREGATE_CELLS: usize = 50_000;

/// The latest time the offline Autumn knows: 9999-12-31T23:59:59.999Z, in milliseconds. Ranges
/// that reach past it (or before 1970) answer 400, and the clock stops there.
pub(crate) const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// The largest amount (`value`, `required_balance`) a request may carry, either sign: past it, 400.
/// Sums of such amounts stay finite (JSON has no infinity).
pub(crate) const MAX_AMOUNT: f64 = 1e15;

fn bad(message: impl Into<String>) -> Reply {
    Reply::error(400, "invalid_request", message)
}

fn customer_not_found(id: &str) -> Reply {
    Reply::error(
        404,
        "customer_not_found",
        format!("Customer {id:?} not found"),
    )
}

fn feature_not_found(id: &str) -> Reply {
    Reply::error(
        404,
        "feature_not_found",
        format!("Feature {id:?} not found"),
    )
}

fn entity_not_found(id: &str) -> Reply {
    Reply::error(404, "entity_not_found", format!("Entity {id:?} not found"))
}

/// One API operation: reads the body, changes the state, answers the JSON body.
type Operation = fn(&mut Engine, &Value) -> Outcome;

/// The operations the offline Autumn implements, each named by its entry of the generated operation
/// table (`src/client/generated.rs`), so a misspelt operation does not compile.
pub(crate) const OPERATIONS: &[(&OperationInfo, Operation)] = &[
    (ops::CUSTOMERS_GET_OR_CREATE, Engine::get_or_create),
    (ops::CUSTOMERS_GET, Engine::customer_get),
    (ops::CUSTOMERS_LIST, Engine::customers_list),
    (ops::CUSTOMERS_UPDATE, Engine::customer_update),
    (ops::CUSTOMERS_DELETE, Engine::customer_delete),
    (ops::ENTITIES_CREATE, Engine::entity_create),
    (ops::ENTITIES_GET, Engine::entity_get),
    (ops::ENTITIES_LIST, Engine::entities_list),
    (ops::ENTITIES_UPDATE, Engine::entity_update),
    (ops::ENTITIES_DELETE, Engine::entity_delete),
    (ops::PLANS_LIST, Engine::plans_list),
    (ops::PLANS_GET, Engine::plans_get),
    (ops::FEATURES_LIST, Engine::features_list),
    (ops::FEATURES_GET, Engine::features_get),
    (ops::BILLING_ATTACH, Engine::attach),
    (ops::BILLING_PREVIEW_ATTACH, Engine::preview_attach),
    (ops::BILLING_MULTI_ATTACH, Engine::multi_attach),
    (
        ops::BILLING_PREVIEW_MULTI_ATTACH,
        Engine::preview_multi_attach,
    ),
    (ops::BILLING_UPDATE, Engine::billing_update),
    (ops::BILLING_PREVIEW_UPDATE, Engine::preview_update),
    (ops::BILLING_MULTI_UPDATE, Engine::multi_update),
    (
        ops::BILLING_PREVIEW_MULTI_UPDATE,
        Engine::preview_multi_update,
    ),
    (ops::BILLING_SETUP_PAYMENT, Engine::setup_payment),
    (
        ops::BILLING_OPEN_CUSTOMER_PORTAL,
        Engine::open_customer_portal,
    ),
    (ops::BALANCES_CHECK, Engine::check),
    (ops::BALANCES_TRACK, Engine::track),
    (ops::BALANCES_FINALIZE, Engine::finalize),
    (ops::EVENTS_LIST, Engine::events_list),
    (ops::EVENTS_AGGREGATE, Engine::events_aggregate),
    (ops::REFERRALS_CREATE_CODE, Engine::create_code),
    (ops::REFERRALS_REDEEM_CODE, Engine::redeem_code),
];

const CATALOGUE: &str = "catalogue management: the catalogue is fixed when the offline Autumn is \
                         built (OfflineAutumn::with_catalog)";
const ADMIN: &str = "an admin operation: the offline Autumn's balances come from its plans";
const PLATFORM: &str =
    "a platform operation (Stripe, RevenueCat, invoices, API keys): the offline \
                        Autumn has no payment processor and one fixed key";
const PROGRAMS: &str = "referral programs and rewards are managed in Autumn's dashboard; the \
                        offline Autumn implements referrals.create_code and redeem_code";
const LICENSES: &str = "licenses need prepaid quantities, which the offline Autumn does not have";
const METERING: &str = "the offline Autumn meters with balances.track";

/// The API's operations (`spec/autumn-api-2.x.json`) the offline Autumn answers 501, and why: an
/// app's paywall tests do not need them.
pub(crate) const NOT_IMPLEMENTED: &[(&OperationInfo, &str)] = &[
    (ops::PLANS_CREATE, CATALOGUE),
    (ops::PLANS_UPDATE, CATALOGUE),
    (ops::PLANS_DELETE, CATALOGUE),
    (ops::FEATURES_CREATE, CATALOGUE),
    (ops::FEATURES_UPDATE, CATALOGUE),
    (ops::FEATURES_DELETE, CATALOGUE),
    (ops::BILLING_CREATE_SCHEDULE, CATALOGUE),
    (ops::BILLING_IMPORT, PLATFORM),
    (ops::BALANCES_CREATE, ADMIN),
    (ops::BALANCES_UPDATE, ADMIN),
    (ops::BALANCES_DELETE, ADMIN),
    (ops::BALANCES_TRACK_TOKENS, METERING),
    (ops::BALANCES_BATCH_TRACK, METERING),
    (ops::INVOICES_INSERT, PLATFORM),
    (ops::INVOICES_LIST, PLATFORM),
    (ops::LICENSES_ATTACH, LICENSES),
    (ops::LICENSES_RELEASE, LICENSES),
    (ops::LICENSES_LIST_ASSIGNMENTS, LICENSES),
    (ops::LICENSES_LIST, LICENSES),
    (ops::REFERRAL_PROGRAMS_CREATE, PROGRAMS),
    (ops::REFERRAL_PROGRAMS_LIST, PROGRAMS),
    (ops::REFERRAL_PROGRAMS_GET, PROGRAMS),
    (ops::REFERRAL_PROGRAMS_UPDATE, PROGRAMS),
    (ops::REFERRAL_PROGRAMS_DELETE, PROGRAMS),
    (ops::REWARDS_CREATE, PROGRAMS),
    (ops::REWARDS_LIST, PROGRAMS),
    (ops::REWARDS_GET, PROGRAMS),
    (ops::REWARDS_UPDATE, PROGRAMS),
    (ops::REWARDS_DELETE, PROGRAMS),
    (ops::REWARDS_REDEEM, PROGRAMS),
    (ops::PLATFORM_LINK_REVENUECAT, PLATFORM),
    (ops::PLATFORM_SYNC_REVENUECAT, PLATFORM),
    (ops::PLATFORM_GET_REVENUECAT_KEYS, PLATFORM),
    (ops::KEYS_MINT, PLATFORM),
    (ops::KEYS_REFRESH, PLATFORM),
    (ops::KEYS_REVOKE, PLATFORM),
];

/// The whole in-memory Autumn.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) catalog: Catalog,
    /// Where the fake checkout, setup and portal pages live.
    pub(crate) base_url: String,
    /// The clock, in milliseconds since the Unix epoch.
    pub(crate) now: i64,
    seq: u64,
    customers: BTreeMap<String, Customer>,
    idempotency_keys: HashSet<String>,
    checkouts: BTreeMap<String, Checkout>,
    events: Vec<Event>,
    locks: BTreeMap<String, Hold>,
    codes: BTreeMap<String, ReferralCode>,
    redemptions: Vec<(String, String)>,
}

impl Engine {
    pub(crate) fn new(catalog: Catalog, base_url: String, now: i64) -> Engine {
        Engine {
            catalog,
            base_url,
            now,
            seq: 0,
            customers: BTreeMap::new(),
            idempotency_keys: HashSet::new(),
            checkouts: BTreeMap::new(),
            events: Vec::new(),
            locks: BTreeMap::new(),
            codes: BTreeMap::new(),
            redemptions: Vec::new(),
        }
    }

    /// Forgets every customer, event, checkout, code and idempotency key (the catalogue, the
    /// clock and the base URL stay).
    pub(crate) fn reset(&mut self) {
        let catalog = std::mem::replace(&mut self.catalog, Catalog::new());
        let base_url = std::mem::take(&mut self.base_url);
        *self = Engine::new(catalog, base_url, self.now);
    }

    pub(super) fn next_id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}_{:06}", self.seq)
    }

    /// Answers one API call: `op` is the path after `/v1/`.
    pub(crate) fn handle(
        &mut self,
        op: &str,
        body: &Value,
        idempotency_key: Option<&str>,
    ) -> Reply {
        if let Some(key) = idempotency_key {
            if self.idempotency_keys.contains(key) {
                return Reply::error(
                    409,
                    "duplicate_idempotency_key",
                    "A request with this idempotency key was already processed",
                );
            }
        }
        self.settle();
        let result = self.dispatch(op, body);
        self.settle();
        match result {
            Ok(body) => {
                if let Some(key) = idempotency_key {
                    self.idempotency_keys.insert(key.to_owned());
                }
                Reply { status: 200, body }
            }
            Err(reply) => reply,
        }
    }

    /// Answers `op` (the path after `/v1/`): the generated operation table names the operation,
    /// [`OPERATIONS`] its handler; an operation without one answers 501 naming the path (with the
    /// reason [`NOT_IMPLEMENTED`] gives), and so does a path that names no operation of the API.
    fn dispatch(&mut self, op: &str, body: &Value) -> Outcome {
        let info = ops::OPERATIONS
            .iter()
            .find(|info| info.path.strip_prefix("/v1/") == Some(op));
        let mut reason = String::new();
        if let Some(info) = info {
            if let Some((_, operation)) = OPERATIONS.iter().find(|(i, _)| i.path == info.path) {
                return operation(self, body);
            }
            if let Some((_, why)) = NOT_IMPLEMENTED.iter().find(|(i, _)| i.path == info.path) {
                reason = format!(": {why}");
            }
        }
        Err(Reply::error(
            501,
            "not_implemented",
            format!("The offline Autumn does not implement POST /v1/{op}{reason}"),
        ))
    }

    /// Brings every account up to the clock: ends expired plans, starts scheduled ones, gives the
    /// default plan back to customers left without one, rolls periods and resets allowances.
    fn settle(&mut self) {
        let now = self.now;
        let expired: Vec<String> = self
            .locks
            .iter()
            .filter(|(_, h)| h.expires_at.is_some_and(|at| at <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(hold) = self.locks.remove(&id) {
                self.give_back(&hold);
            }
        }
        let Engine {
            catalog,
            customers,
            seq,
            now,
            ..
        } = self;
        for customer in customers.values_mut() {
            settle_account(&mut customer.account, catalog, *now, seq, true);
            for entity in customer.entities.values_mut() {
                mirror(&customer.account, &mut entity.account);
                settle_account(&mut entity.account, catalog, *now, seq, false);
            }
        }
    }

    pub(super) fn existing(&self, id: &str) -> Result<&Customer, Reply> {
        self.customers.get(id).ok_or_else(|| customer_not_found(id))
    }

    pub(super) fn existing_mut(&mut self, id: &str) -> Result<&mut Customer, Reply> {
        self.customers
            .get_mut(id)
            .ok_or_else(|| customer_not_found(id))
    }

    pub(super) fn plan(&self, id: &str) -> Result<&Plan, Reply> {
        self.catalog
            .plan_by_id(id)
            .ok_or_else(|| Reply::error(404, "plan_not_found", format!("Plan {id:?} not found")))
    }

    /// The account attaches act on: the customer's, or the entity's when `entity_id` is given.
    pub(super) fn account(
        &self,
        customer_id: &str,
        entity_id: Option<&str>,
    ) -> Result<&Account, Reply> {
        let customer = self.existing(customer_id)?;
        match entity_id {
            None => Ok(&customer.account),
            Some(e) => customer
                .entities
                .get(e)
                .map(|e| &e.account)
                .ok_or_else(|| entity_not_found(e)),
        }
    }

    pub(super) fn account_mut(
        &mut self,
        customer_id: &str,
        entity_id: Option<&str>,
    ) -> Result<&mut Account, Reply> {
        account_in(&mut self.customers, customer_id, entity_id)
    }
}

/// The customer's account, or its entity's when `entity_id` is given (borrowing only the customers,
/// so the catalogue stays readable beside it).
fn account_in<'a>(
    customers: &'a mut BTreeMap<String, Customer>,
    customer_id: &str,
    entity_id: Option<&str>,
) -> Result<&'a mut Account, Reply> {
    let customer = customers
        .get_mut(customer_id)
        .ok_or_else(|| customer_not_found(customer_id))?;
    match entity_id {
        None => Ok(&mut customer.account),
        Some(e) => customer
            .entities
            .get_mut(e)
            .map(|e| &mut e.account)
            .ok_or_else(|| entity_not_found(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No operation is listed twice, and every reason says something. An operation the spec gains is
    /// listed nowhere until someone implements it or gives a reason: it answers 501 like any path the
    /// offline Autumn does not know, so a regeneration alone never breaks the build.
    #[test]
    fn every_generated_operation_is_listed_at_most_once() {
        for info in ops::OPERATIONS {
            let implemented = OPERATIONS.iter().filter(|(i, _)| *i == info).count();
            let reasons: Vec<&str> = NOT_IMPLEMENTED
                .iter()
                .filter(|(i, _)| *i == info)
                .map(|(_, why)| *why)
                .collect();
            assert!(
                implemented + reasons.len() <= 1,
                "{} is listed more than once",
                info.path
            );
            assert!(
                reasons.iter().all(|why| !why.trim().is_empty()),
                "{} needs a reason",
                info.path
            );
        }
    }

    #[test]
    fn dispatch_goes_through_the_generated_table() {
        let mut engine = Engine::new(Catalog::default(), "https://pages.invalid".to_owned(), 0);
        for (info, why) in NOT_IMPLEMENTED {
            let op = info.path.strip_prefix("/v1/").unwrap();
            let reply = engine.handle(op, &json!({}), None);
            assert_eq!(reply.status, 501, "{op}");
            assert_eq!(
                reply.body["message"],
                format!("The offline Autumn does not implement POST /v1/{op}: {why}")
            );
        }
        let reply = engine.handle("nothing.here", &json!({}), None);
        assert_eq!(reply.status, 501);
        assert_eq!(
            reply.body["message"],
            "The offline Autumn does not implement POST /v1/nothing.here"
        );
        for (info, _) in OPERATIONS {
            let op = info.path.strip_prefix("/v1/").unwrap();
            let reply = engine.handle(op, &json!({}), None);
            assert_ne!(reply.status, 501, "{op}");
        }
    }
}
