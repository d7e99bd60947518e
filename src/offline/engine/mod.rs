//! The offline Autumn's state and the operations on it. Everything here is synchronous and in
//! memory; `OfflineAutumn` holds it behind a mutex only for the length of one operation.
//!
//! `mod.rs` holds the engine, its dispatch by operation and what every operation shares; the
//! operations live in one file per subject.

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

/// The operations the offline Autumn implements, by path (after `/v1/`).
pub(crate) const OPERATIONS: &[(&str, Operation)] = &[
    ("customers.get_or_create", Engine::get_or_create),
    ("customers.get", Engine::customer_get),
    ("customers.list", Engine::customers_list),
    ("customers.update", Engine::customer_update),
    ("customers.delete", Engine::customer_delete),
    ("entities.create", Engine::entity_create),
    ("entities.get", Engine::entity_get),
    ("entities.list", Engine::entities_list),
    ("entities.update", Engine::entity_update),
    ("entities.delete", Engine::entity_delete),
    ("plans.list", Engine::plans_list),
    ("plans.get", Engine::plans_get),
    ("features.list", Engine::features_list),
    ("features.get", Engine::features_get),
    ("billing.attach", Engine::attach),
    ("billing.preview_attach", Engine::preview_attach),
    ("billing.multi_attach", Engine::multi_attach),
    ("billing.preview_multi_attach", Engine::preview_multi_attach),
    ("billing.update", Engine::billing_update),
    ("billing.preview_update", Engine::preview_update),
    ("billing.multi_update", Engine::multi_update),
    ("billing.preview_multi_update", Engine::preview_multi_update),
    ("billing.setup_payment", Engine::setup_payment),
    ("billing.open_customer_portal", Engine::open_customer_portal),
    ("balances.check", Engine::check),
    ("balances.track", Engine::track),
    ("balances.finalize", Engine::finalize),
    ("events.list", Engine::events_list),
    ("events.aggregate", Engine::events_aggregate),
    ("referrals.create_code", Engine::create_code),
    ("referrals.redeem_code", Engine::redeem_code),
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
pub(crate) const NOT_IMPLEMENTED: &[(&str, &str)] = &[
    ("plans.create", CATALOGUE),
    ("plans.update", CATALOGUE),
    ("plans.delete", CATALOGUE),
    ("features.create", CATALOGUE),
    ("features.update", CATALOGUE),
    ("features.delete", CATALOGUE),
    ("billing.create_schedule", CATALOGUE),
    ("billing.import", PLATFORM),
    ("balances.create", ADMIN),
    ("balances.update", ADMIN),
    ("balances.delete", ADMIN),
    ("balances.track_tokens", METERING),
    ("balances.batch_track", METERING),
    ("invoices.insert", PLATFORM),
    ("invoices.list", PLATFORM),
    ("licenses.attach", LICENSES),
    ("licenses.release", LICENSES),
    ("licenses.list_assignments", LICENSES),
    ("licenses.list", LICENSES),
    ("referral_programs.create", PROGRAMS),
    ("referral_programs.list", PROGRAMS),
    ("referral_programs.get", PROGRAMS),
    ("referral_programs.update", PROGRAMS),
    ("referral_programs.delete", PROGRAMS),
    ("rewards.create", PROGRAMS),
    ("rewards.list", PROGRAMS),
    ("rewards.get", PROGRAMS),
    ("rewards.update", PROGRAMS),
    ("rewards.delete", PROGRAMS),
    ("rewards.redeem", PROGRAMS),
    ("platform.link_revenuecat", PLATFORM),
    ("platform.sync_revenuecat", PLATFORM),
    ("platform.get_revenuecat_keys", PLATFORM),
    ("keys.mint", PLATFORM),
    ("keys.refresh", PLATFORM),
    ("keys.revoke", PLATFORM),
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

    /// Answers `op` from [`OPERATIONS`]; an operation not there answers 501 naming the path (with
    /// the reason, for the API's operations listed in [`NOT_IMPLEMENTED`]).
    fn dispatch(&mut self, op: &str, body: &Value) -> Outcome {
        if let Some((_, operation)) = OPERATIONS.iter().find(|(path, _)| *path == op) {
            return operation(self, body);
        }
        let reason = NOT_IMPLEMENTED
            .iter()
            .find(|(path, _)| *path == op)
            .map_or(String::new(), |(_, reason)| format!(": {reason}"));
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
