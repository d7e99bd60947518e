//! The records the engine keeps: customers, entities and their accounts (plans, purchases,
//! allowances), invoices, checkouts, events, locks and referral codes.
//!
//! Plain data, beside the engine rather than inside it: the engine (`engine/`) changes these
//! records and `render.rs` writes them as API JSON, so both depend on this module and neither on
//! the other.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::catalog::Interval;

/// A customer or an entity's plans and balances.
#[derive(Clone, Debug, Default)]
pub(crate) struct Account {
    pub(crate) subs: Vec<Sub>,
    pub(crate) purchases: Vec<Purchase>,
    pub(crate) grants: Vec<Grant>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Active,
    Scheduled,
}

/// A recurring plan on an account.
#[derive(Clone, Debug)]
pub(crate) struct Sub {
    pub(crate) id: String,
    pub(crate) plan_id: String,
    pub(crate) status: Status,
    pub(crate) started_at: i64,
    pub(crate) period_start: Option<i64>,
    pub(crate) period_end: Option<i64>,
    pub(crate) canceled_at: Option<i64>,
    pub(crate) expires_at: Option<i64>,
}

/// A one-off purchase.
#[derive(Clone, Debug)]
pub(crate) struct Purchase {
    pub(crate) plan_id: String,
    pub(crate) started_at: i64,
    pub(crate) quantity: f64,
}

/// An allowance of one feature (a balance's breakdown entry), or a boolean feature's grant.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub(crate) id: String,
    pub(crate) feature_id: String,
    pub(crate) plan_id: Option<String>,
    /// The subscription that gives it (`None` for a purchase).
    pub(crate) sub_id: Option<String>,
    /// On an entity: the customer grant it mirrors.
    pub(crate) mirror_of: Option<String>,
    pub(crate) included: f64,
    pub(crate) usage: f64,
    pub(crate) unlimited: bool,
    pub(crate) reset: Option<Interval>,
    pub(crate) anchor: i64,
    pub(crate) next_reset_at: Option<i64>,
}

impl Grant {
    pub(super) fn remaining(&self) -> f64 {
        self.included - self.usage
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Invoice {
    pub(crate) plan_ids: Vec<String>,
    pub(crate) stripe_id: String,
    pub(crate) total: f64,
    pub(crate) created_at: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Customer {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) fingerprint: Option<String>,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) created_at: i64,
    pub(crate) stripe_id: Option<String>,
    pub(crate) payment_method: bool,
    pub(crate) account: Account,
    pub(crate) entities: BTreeMap<String, Entity>,
    pub(crate) invoices: Vec<Invoice>,
}

#[derive(Clone, Debug)]
pub(crate) struct Entity {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) feature_id: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) account: Account,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum CheckoutKind {
    Attach,
    Setup,
}

/// A checkout or payment-setup session waiting for the (fake) payment.
#[derive(Clone, Debug)]
pub(super) struct Checkout {
    /// When it was opened (the engine's sequence), to list checkouts oldest first.
    pub(super) opened: u64,
    /// The secret the page's form carries: paying on the page takes it (a v4 UUID).
    pub(super) token: String,
    pub(super) kind: CheckoutKind,
    pub(super) customer_id: String,
    pub(super) entity_id: Option<String>,
    pub(super) plan_ids: Vec<String>,
    pub(super) success_url: Option<String>,
}

#[derive(Clone, Debug)]
pub(super) struct Event {
    pub(super) id: String,
    pub(super) timestamp: i64,
    pub(super) customer_id: String,
    pub(super) entity_id: Option<String>,
    pub(super) feature_id: String,
    pub(super) value: f64,
    pub(super) properties: Map<String, Value>,
    pub(super) deductions: Vec<Value>,
}

/// Units a `check` with a `lock` holds until `balances.finalize` (or its expiry): the usage is
/// already drawn from the allowances; `event` is recorded on confirm.
#[derive(Clone, Debug)]
pub(super) struct Hold {
    pub(super) customer_id: String,
    pub(super) entity_id: Option<String>,
    pub(super) feature_id: String,
    pub(super) amount: f64,
    pub(super) event: Event,
    pub(super) expires_at: Option<i64>,
}

#[derive(Clone, Debug)]
pub(super) struct ReferralCode {
    pub(super) code: String,
    pub(super) customer_id: String,
    pub(super) program_id: String,
    pub(super) created_at: i64,
}

/// What a checkout page shows and needs.
#[derive(Clone, Debug)]
pub(crate) struct CheckoutPage {
    /// The page's path, `/checkout/<id>` or `/setup/<id>` (built from the id, never from a request).
    pub(crate) path: String,
    pub(crate) customer_id: String,
    /// The plans' names and prices.
    pub(crate) plans: Vec<String>,
    /// The token the page's form must send back.
    pub(crate) token: String,
}
