//! The offline Autumn's state and the operations on it. Everything here is synchronous and in
//! memory; `OfflineAutumn` holds it behind a mutex only for the length of one operation.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Map, Value};

use super::catalog::{Catalog, FeatureKind, Interval, Plan};
use super::render;
use super::time::{self, Bin, DAY, HOUR};

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
    fn remaining(&self) -> f64 {
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
enum CheckoutKind {
    Attach,
    Setup,
}

/// A checkout or payment-setup session waiting for the (fake) payment.
#[derive(Clone, Debug)]
struct Checkout {
    /// When it was opened (the engine's sequence), to list checkouts oldest first.
    opened: u64,
    /// The secret the page's form carries: paying on the page takes it (a v4 UUID).
    token: String,
    kind: CheckoutKind,
    customer_id: String,
    entity_id: Option<String>,
    plan_ids: Vec<String>,
    success_url: Option<String>,
}

#[derive(Clone, Debug)]
struct Event {
    id: String,
    timestamp: i64,
    customer_id: String,
    entity_id: Option<String>,
    feature_id: String,
    value: f64,
    properties: Map<String, Value>,
    deductions: Vec<Value>,
}

/// Units a `check` with a `lock` holds until `balances.finalize` (or its expiry): the usage is
/// already drawn from the allowances; `event` is recorded on confirm.
#[derive(Clone, Debug)]
struct Hold {
    customer_id: String,
    entity_id: Option<String>,
    feature_id: String,
    amount: f64,
    event: Event,
    expires_at: Option<i64>,
}

#[derive(Clone, Debug)]
struct ReferralCode {
    code: String,
    customer_id: String,
    program_id: String,
    created_at: i64,
}

/// What attaching a plan to an account would do.
#[derive(Clone, Debug, PartialEq)]
enum Action {
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
    fn name(&self) -> &'static str {
        match self {
            Action::Activate | Action::Renew { .. } => "activate",
            Action::Upgrade { .. } => "upgrade",
            Action::Downgrade { .. } => "downgrade",
            Action::Purchase => "purchase",
            Action::Nothing { .. } => "none",
        }
    }

    /// True when carrying it out charges the customer now.
    fn charges(&self, plan: &Plan) -> bool {
        plan.is_paid()
            && matches!(
                self,
                Action::Activate | Action::Upgrade { .. } | Action::Purchase
            )
    }
}

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

/// The id a checkout URL ends with.
fn checkout_id(url_or_id: &str) -> &str {
    url_or_id
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(url_or_id)
}

/// Reads a body field as a string.
fn string(body: &Value, field: &str) -> Result<Option<String>, Reply> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("`{field}` must be a string"))),
    }
}

fn required(body: &Value, field: &str) -> Result<String, Reply> {
    match string(body, field)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(bad(format!("`{field}` is required"))),
    }
}

fn number(body: &Value, field: &str) -> Result<Option<f64>, Reply> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| bad(format!("`{field}` must be a number"))),
    }
}

fn boolean(body: &Value, field: &str) -> Result<bool, Reply> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(format!("`{field}` must be a boolean"))),
    }
}

fn object(body: &Value, field: &str) -> Result<Map<String, Value>, Reply> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(bad(format!("`{field}` must be an object"))),
    }
}

/// An amount: a number within [`MAX_AMOUNT`] either way.
fn amount(body: &Value, field: &str) -> Result<Option<f64>, Reply> {
    match number(body, field)? {
        Some(n) if n.abs() > MAX_AMOUNT => Err(bad(format!(
            "`{field}` must be between -{MAX_AMOUNT:e} and {MAX_AMOUNT:e}"
        ))),
        n => Ok(n),
    }
}

/// A time in milliseconds since the epoch, between 1970 and [`MAX_TIME_MS`].
fn timestamp(body: &Value, field: &str, within: &str) -> Result<Option<i64>, Reply> {
    match number(body, field)? {
        None => Ok(None),
        Some(ms) if (0.0..=MAX_TIME_MS as f64).contains(&ms) => Ok(Some(ms as i64)),
        Some(_) => Err(bad(format!(
            "`{within}.{field}` must be a time in milliseconds between 0 and {MAX_TIME_MS}"
        ))),
    }
}

/// `feature_id` as a string or an array of at most [`MAX_IDS`] strings.
fn feature_ids(body: &Value) -> Result<Option<Vec<String>>, Reply> {
    match body.get("feature_id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) if items.len() > MAX_IDS => Err(bad(format!(
            "`feature_id` has {} entries: at most {MAX_IDS}",
            items.len()
        ))),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| bad("`feature_id` must be a string or an array of strings")),
        Some(_) => Err(bad("`feature_id` must be a string or an array of strings")),
    }
}

fn expand(body: &Value) -> Vec<String> {
    body.get("expand")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn customer_not_found(id: &str) -> Reply {
    Reply::error(
        404,
        "customer_not_found",
        format!("Customer {id:?} not found"),
    )
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

/// An unguessable checkout or setup id: `prefix_` and a v4 UUID (122 bits from the OS RNG).
fn random_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
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

    fn next_id(&mut self, prefix: &str) -> String {
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

    fn dispatch(&mut self, op: &str, body: &Value) -> Outcome {
        match op {
            "customers.get_or_create" => self.get_or_create(body),
            "customers.get" => self.customer_get(body),
            "customers.list" => self.customers_list(body),
            "customers.update" => self.customer_update(body),
            "customers.delete" => self.customer_delete(body),
            "entities.create" => self.entity_create(body),
            "entities.get" => self.entity_get(body),
            "entities.list" => self.entities_list(body),
            "entities.update" => self.entity_update(body),
            "entities.delete" => self.entity_delete(body),
            "plans.list" => self.plans_list(body),
            "plans.get" => self.plans_get(body),
            "features.list" => Ok(json!({
                "list": self.catalog.features.iter().map(render::feature).collect::<Vec<_>>(),
            })),
            "features.get" => {
                let id = required(body, "feature_id")?;
                self.catalog
                    .feature_by_id(&id)
                    .map(render::feature)
                    .ok_or_else(|| feature_not_found(&id))
            }
            "billing.attach" => self.attach(body),
            "billing.preview_attach" => self.preview_attach(body),
            "billing.multi_attach" => self.multi_attach(body),
            "billing.preview_multi_attach" => self.preview_multi_attach(body),
            "billing.update" => self.update(body, false),
            "billing.preview_update" => self.update(body, true),
            "billing.setup_payment" => self.setup_payment(body),
            "billing.open_customer_portal" => {
                let customer_id = required(body, "customer_id")?;
                self.existing(&customer_id)?;
                Ok(json!({
                    "customer_id": customer_id,
                    "url": format!("{}/portal/{}", self.base_url, url_segment(&customer_id)),
                }))
            }
            "balances.check" => self.check(body),
            "balances.track" => self.track(body),
            "balances.finalize" => self.finalize(body),
            "events.list" => self.events_list(body),
            "events.aggregate" => self.events_aggregate(body),
            "referrals.create_code" => self.create_code(body),
            "referrals.redeem_code" => self.redeem_code(body),
            _ => Err(Reply::error(
                501,
                "not_implemented",
                format!("The offline Autumn does not implement POST /v1/{op}"),
            )),
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Time.

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

    // ---------------------------------------------------------------------------------------------
    // Customers.

    fn existing(&self, id: &str) -> Result<&Customer, Reply> {
        self.customers.get(id).ok_or_else(|| customer_not_found(id))
    }

    fn existing_mut(&mut self, id: &str) -> Result<&mut Customer, Reply> {
        self.customers
            .get_mut(id)
            .ok_or_else(|| customer_not_found(id))
    }

    /// Creates the customer on first sight, with the default plan; fills a missing name or email.
    fn ensure_customer(&mut self, id: &str, data: Option<&Value>) -> Result<(), Reply> {
        let name = data.map(|d| string(d, "name")).transpose()?.flatten();
        let email = data.map(|d| string(d, "email")).transpose()?.flatten();
        if let Some(customer) = self.customers.get_mut(id) {
            if customer.name.is_none() {
                customer.name = name;
            }
            if customer.email.is_none() {
                customer.email = email;
            }
            return Ok(());
        }
        let fingerprint = data
            .map(|d| string(d, "fingerprint"))
            .transpose()?
            .flatten();
        let metadata = data
            .map(|d| object(d, "metadata"))
            .transpose()?
            .unwrap_or_default();
        let mut customer = Customer {
            id: id.to_owned(),
            name,
            email,
            fingerprint,
            metadata,
            created_at: self.now,
            stripe_id: None,
            payment_method: false,
            account: Account::default(),
            entities: BTreeMap::new(),
            invoices: Vec::new(),
        };
        settle_account(
            &mut customer.account,
            &self.catalog,
            self.now,
            &mut self.seq,
            true,
        );
        self.customers.insert(id.to_owned(), customer);
        Ok(())
    }

    fn get_or_create(&mut self, body: &Value) -> Outcome {
        let id = required(body, "customer_id")?;
        self.ensure_customer(&id, Some(body))?;
        Ok(render::customer(
            &self.catalog,
            &self.customers[&id],
            &expand(body),
        ))
    }

    fn customer_get(&mut self, body: &Value) -> Outcome {
        let id = required(body, "customer_id")?;
        let customer = self.existing(&id)?;
        Ok(render::customer(&self.catalog, customer, &expand(body)))
    }

    fn customers_list(&mut self, body: &Value) -> Outcome {
        let search = string(body, "search")?.map(|s| s.to_lowercase());
        let matching: Vec<&Customer> = self
            .customers
            .values()
            .filter(|c| {
                search.as_deref().is_none_or(|s| {
                    [Some(&c.id), c.name.as_ref(), c.email.as_ref()]
                        .into_iter()
                        .flatten()
                        .any(|v| v.to_lowercase().contains(s))
                })
            })
            .collect();
        let (page, next) = paginate(&matching, |c| c.id.as_str(), body, 50)?;
        Ok(json!({
            "list": page.iter().map(|c| render::customer(&self.catalog, c, &[])).collect::<Vec<_>>(),
            "next_cursor": next,
        }))
    }

    fn customer_update(&mut self, body: &Value) -> Outcome {
        let id = required(body, "customer_id")?;
        let new_id = string(body, "new_customer_id")?;
        if let Some(new_id) = &new_id {
            if new_id != &id && self.customers.contains_key(new_id) {
                return Err(Reply::error(
                    409,
                    "customer_already_exists",
                    format!("Customer {new_id:?} already exists"),
                ));
            }
        }
        let customer = self.existing_mut(&id)?;
        for (field, slot) in [
            ("name", &mut customer.name),
            ("email", &mut customer.email),
            ("fingerprint", &mut customer.fingerprint),
        ] {
            if body.get(field).is_some() {
                *slot = string(body, field)?;
            }
        }
        if body.get("metadata").is_some() {
            customer.metadata = object(body, "metadata")?;
        }
        let mut customer = customer.clone();
        if let Some(new_id) = new_id.filter(|n| n != &id) {
            self.customers.remove(&id);
            customer.id = new_id;
        }
        let answer = render::customer(&self.catalog, &customer, &[]);
        self.customers.insert(customer.id.clone(), customer);
        Ok(answer)
    }

    fn customer_delete(&mut self, body: &Value) -> Outcome {
        let id = required(body, "customer_id")?;
        self.customers
            .remove(&id)
            .ok_or_else(|| customer_not_found(&id))?;
        Ok(json!({ "success": true }))
    }

    // ---------------------------------------------------------------------------------------------
    // Entities.

    fn entity_create(&mut self, body: &Value) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let entity_id = required(body, "entity_id")?;
        let feature_id = required(body, "feature_id")?;
        if self.catalog.feature_by_id(&feature_id).is_none() {
            return Err(feature_not_found(&feature_id));
        }
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
        let now = self.now;
        let name = string(body, "name")?;
        let customer = self.existing_mut(&customer_id)?;
        if customer.entities.contains_key(&entity_id) {
            return Err(Reply::error(
                409,
                "entity_already_exists",
                format!("Entity {entity_id:?} already exists for customer {customer_id:?}"),
            ));
        }
        let mut entity = Entity {
            id: entity_id.clone(),
            name,
            feature_id: Some(feature_id),
            created_at: now,
            account: Account::default(),
        };
        mirror(&customer.account, &mut entity.account);
        customer.entities.insert(entity_id.clone(), entity);
        let entity = &self.customers[&customer_id].entities[&entity_id];
        Ok(render::entity(&self.catalog, &customer_id, entity))
    }

    fn entity_ref(&self, body: &Value) -> Result<(String, String), Reply> {
        let customer_id = required(body, "customer_id")?;
        let entity_id = required(body, "entity_id")?;
        let customer = self.existing(&customer_id)?;
        if !customer.entities.contains_key(&entity_id) {
            return Err(entity_not_found(&entity_id));
        }
        Ok((customer_id, entity_id))
    }

    fn entity_get(&mut self, body: &Value) -> Outcome {
        let (customer_id, entity_id) = self.entity_ref(body)?;
        let entity = &self.customers[&customer_id].entities[&entity_id];
        Ok(render::entity(&self.catalog, &customer_id, entity))
    }

    fn entities_list(&mut self, body: &Value) -> Outcome {
        let customer_id = string(body, "customer_id")?;
        let mut all: Vec<(&str, &Entity)> = Vec::new();
        for customer in self.customers.values() {
            if customer_id.as_deref().is_some_and(|id| id != customer.id) {
                continue;
            }
            all.extend(
                customer
                    .entities
                    .values()
                    .map(|e| (customer.id.as_str(), e)),
            );
        }
        let (page, next) = paginate(&all, |(_, e)| e.id.as_str(), body, 50)?;
        Ok(json!({
            "list": page.iter().map(|(c, e)| render::entity(&self.catalog, c, e)).collect::<Vec<_>>(),
            "next_cursor": next,
        }))
    }

    fn entity_update(&mut self, body: &Value) -> Outcome {
        let (customer_id, entity_id) = self.entity_ref(body)?;
        let name = string(body, "name")?;
        let entity = self
            .customers
            .get_mut(&customer_id)
            .and_then(|c| c.entities.get_mut(&entity_id))
            .ok_or_else(|| entity_not_found(&entity_id))?;
        if body.get("name").is_some() {
            entity.name = name;
        }
        let entity = &self.customers[&customer_id].entities[&entity_id];
        Ok(render::entity(&self.catalog, &customer_id, entity))
    }

    fn entity_delete(&mut self, body: &Value) -> Outcome {
        let (customer_id, entity_id) = self.entity_ref(body)?;
        if let Some(c) = self.customers.get_mut(&customer_id) {
            c.entities.remove(&entity_id);
        }
        Ok(json!({ "success": true }))
    }

    // ---------------------------------------------------------------------------------------------
    // Plans.

    fn plan(&self, id: &str) -> Result<&Plan, Reply> {
        self.catalog
            .plan_by_id(id)
            .ok_or_else(|| Reply::error(404, "plan_not_found", format!("Plan {id:?} not found")))
    }

    /// The account attaches act on: the customer's, or the entity's when `entity_id` is given.
    fn account(&self, customer_id: &str, entity_id: Option<&str>) -> Result<&Account, Reply> {
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

    fn account_mut(
        &mut self,
        customer_id: &str,
        entity_id: Option<&str>,
    ) -> Result<&mut Account, Reply> {
        account_in(&mut self.customers, customer_id, entity_id)
    }

    fn eligibility(&self, account: &Account, plan: &Plan) -> Value {
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

    fn plans_list(&mut self, body: &Value) -> Outcome {
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

    fn plans_get(&mut self, body: &Value) -> Outcome {
        let id = required(body, "plan_id")?;
        let plan = self.plan(&id)?;
        Ok(render::plan(&self.catalog, plan, None))
    }

    // ---------------------------------------------------------------------------------------------
    // Billing.

    /// Attaches `plan_ids` now, or answers a checkout URL when a charge needs a payment method.
    fn attach_plans(
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
    fn apply(
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

    fn attach(&mut self, body: &Value) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let plan_id = required(body, "plan_id")?;
        let entity_id = string(body, "entity_id")?;
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
        let success_url = string(body, "success_url")?;
        self.attach_plans(&customer_id, entity_id.as_deref(), &[plan_id], success_url)
    }

    fn multi_plan_ids(body: &Value) -> Result<Vec<String>, Reply> {
        let plans = body
            .get("plans")
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
            .map(|p| required(p, "plan_id"))
            .collect::<Result<Vec<_>, _>>()
    }

    fn multi_attach(&mut self, body: &Value) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let entity_id = string(body, "entity_id")?;
        let plan_ids = Self::multi_plan_ids(body)?;
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
        let success_url = string(body, "success_url")?;
        self.attach_plans(&customer_id, entity_id.as_deref(), &plan_ids, success_url)
    }

    fn preview(
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

    fn preview_attach(&mut self, body: &Value) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let plan_id = required(body, "plan_id")?;
        let entity_id = string(body, "entity_id")?;
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
        self.preview(&customer_id, entity_id.as_deref(), &[plan_id])
    }

    fn preview_multi_attach(&mut self, body: &Value) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let entity_id = string(body, "entity_id")?;
        let plan_ids = Self::multi_plan_ids(body)?;
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
        self.preview(&customer_id, entity_id.as_deref(), &plan_ids)
    }

    /// `billing.update` and its preview: cancel at the end of the cycle, cancel now, or uncancel.
    fn update(&mut self, body: &Value, preview: bool) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let entity_id = string(body, "entity_id")?;
        let cancel = string(body, "cancel_action")?;
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
        let plan_id = string(body, "plan_id")?;
        let subscription_id = string(body, "subscription_id")?;
        let now = self.now;
        let Engine {
            catalog, customers, ..
        } = self;
        let account = account_in(customers, &customer_id, entity_id.as_deref())?;
        let index = account
            .subs
            .iter()
            .position(|s| {
                s.status == Status::Active
                    && match (&plan_id, &subscription_id) {
                        (Some(p), _) => &s.plan_id == p,
                        (None, Some(id)) => &s.id == id,
                        (None, None) => catalog
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
        let sub = account.subs[index].clone();
        let ends = sub.period_end.filter(|end| *end > now).unwrap_or(now);
        let (intent, expires) = match cancel.as_deref().unwrap_or("none") {
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
        if preview {
            let outgoing = if matches!(intent, "uncancel" | "none") {
                vec![]
            } else {
                vec![change(catalog, &sub.plan_id, Some(now), expires)]
            };
            return Ok(json!({
                "customer_id": customer_id,
                "line_items": [],
                "subtotal": 0,
                "total": 0,
                "currency": "usd",
                "incoming": [],
                "outgoing": outgoing,
                "intent": intent,
            }));
        }
        match intent {
            "none" => {}
            "uncancel" => {
                let group = catalog
                    .plan_by_id(&sub.plan_id)
                    .and_then(|p| p.group.clone());
                let sub = &mut account.subs[index];
                sub.canceled_at = None;
                sub.expires_at = None;
                drop_scheduled(account, catalog, group.as_deref());
            }
            _ => {
                let sub = &mut account.subs[index];
                sub.canceled_at = Some(now);
                sub.expires_at = expires;
            }
        }
        let mut answer = json!({ "customer_id": customer_id, "payment_url": null });
        if let Some(e) = entity_id {
            answer["entity_id"] = json!(e);
        }
        Ok(answer)
    }

    fn setup_payment(&mut self, body: &Value) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let entity_id = string(body, "entity_id")?;
        let plan_id = string(body, "plan_id")?;
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
                success_url: string(body, "success_url")?,
            },
        );
        let mut answer = json!({ "customer_id": customer_id, "url": url });
        if let Some(e) = entity_id {
            answer["entity_id"] = json!(e);
        }
        Ok(answer)
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

    // ---------------------------------------------------------------------------------------------
    // Balances.

    /// The metered feature `track` should draw down for a feature id or an event name.
    fn tracked_feature(&self, body: &Value) -> Result<(String, Option<String>), Reply> {
        let event_name = string(body, "event_name")?;
        let feature_id = match (string(body, "feature_id")?, &event_name) {
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

    fn check(&mut self, body: &Value) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let feature_id = required(body, "feature_id")?;
        let entity_id = string(body, "entity_id")?;
        let required_balance = amount(body, "required_balance")?.unwrap_or(1.0);
        let feature = self
            .catalog
            .feature_by_id(&feature_id)
            .ok_or_else(|| feature_not_found(&feature_id))?
            .clone();
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
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
        let lock = lock(body)?;
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
        } else if allowed && feature.kind == FeatureKind::Metered && boolean(body, "send_event")? {
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
        if !allowed && boolean(body, "with_preview")? {
            answer["preview"] = self.paywall(&customer_id, entity_id.as_deref(), &feature)?;
        }
        Ok(answer)
    }

    /// `balances.finalize`: `confirm` keeps what the lock holds (or records `override_value`
    /// instead) and records the event; `release` gives the units back.
    fn finalize(&mut self, body: &Value) -> Outcome {
        let lock_id = required(body, "lock_id")?;
        let action = required(body, "action")?;
        let override_value = number(body, "override_value")?;
        let properties = object(body, "properties")?;
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
    fn give_back(&mut self, hold: &Hold) {
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
    fn paywall(
        &self,
        customer_id: &str,
        entity_id: Option<&str>,
        feature: &super::catalog::Feature,
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

    fn track(&mut self, body: &Value) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let entity_id = string(body, "entity_id")?;
        let (feature_id, event_name) = self.tracked_feature(body)?;
        let feature = self
            .catalog
            .feature_by_id(&feature_id)
            .ok_or_else(|| feature_not_found(&feature_id))?;
        if feature.kind == FeatureKind::Boolean {
            return Err(bad(format!(
                "Feature {feature_id:?} is a boolean feature: there is no usage to track"
            )));
        }
        let value = amount(body, "value")?.unwrap_or(1.0);
        let overflow = match string(body, "overage_behavior")?.as_deref() {
            None | Some("cap") => false,
            Some("overflow") => true,
            Some(other) => {
                return Err(bad(format!(
                    "`overage_behavior` {other:?} is not one of cap, overflow"
                )))
            }
        };
        let properties = object(body, "properties")?;
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
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
    fn deduct(
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

    // ---------------------------------------------------------------------------------------------
    // Events.

    fn matching_events(
        &self,
        body: &Value,
        range: Option<(i64, i64)>,
    ) -> Result<Vec<&Event>, Reply> {
        let customer_id = string(body, "customer_id")?;
        let entity_id = string(body, "entity_id")?;
        let features = feature_ids(body)?;
        Ok(self
            .events
            .iter()
            .filter(|e| customer_id.as_ref().is_none_or(|c| &e.customer_id == c))
            .filter(|e| entity_id.is_none() || e.entity_id == entity_id)
            .filter(|e| features.as_ref().is_none_or(|f| f.contains(&e.feature_id)))
            .filter(|e| range.is_none_or(|(start, end)| e.timestamp >= start && e.timestamp < end))
            .collect())
    }

    /// `custom_range`: `start` and `end` (both included) between 1970 and [`MAX_TIME_MS`], `start`
    /// not after `end`; a missing bound is the first or the last time.
    fn custom_range(body: &Value) -> Result<Option<(i64, i64)>, Reply> {
        match body.get("custom_range") {
            None | Some(Value::Null) => Ok(None),
            Some(range) => {
                let start = timestamp(range, "start", "custom_range")?.unwrap_or(0);
                let end = timestamp(range, "end", "custom_range")?.unwrap_or(MAX_TIME_MS);
                if start > end {
                    return Err(bad(format!(
                        "`custom_range` starts ({start}) after it ends ({end})"
                    )));
                }
                Ok(Some((start, end)))
            }
        }
    }

    fn events_list(&mut self, body: &Value) -> Outcome {
        let range = Self::custom_range(body)?.map(|(start, end)| (start, end.saturating_add(1)));
        let mut events = self.matching_events(body, range)?;
        events.reverse();
        let (page, next) = paginate(&events, |e| e.id.as_str(), body, 100)?;
        let list: Vec<Value> = page
            .iter()
            .map(|e| {
                json!({
                    "id": e.id,
                    "timestamp": e.timestamp,
                    "feature_id": e.feature_id,
                    "customer_id": e.customer_id,
                    "value": e.value,
                    "properties": e.properties,
                    "deductions": e.deductions,
                })
            })
            .collect();
        Ok(json!({ "list": list, "next_cursor": next }))
    }

    /// `events.aggregate`: at most [`MAX_AGGREGATE_BINS`] bins and [`MAX_AGGREGATE_CELLS`] values
    /// (bins × features), else 400; the work is one pass over the events plus one per value.
    fn events_aggregate(&mut self, body: &Value) -> Outcome {
        let features = feature_ids(body)?.ok_or_else(|| bad("`feature_id` is required"))?;
        if features.is_empty() {
            return Err(bad("`feature_id` names no feature"));
        }
        let now = self.now;
        let days_ago = |days: i64| now.saturating_sub(days.saturating_mul(DAY));
        let range = string(body, "range")?;
        let (start, end, default_bin) = match (Self::custom_range(body)?, range.as_deref()) {
            (Some((start, end)), _) => (start, end.min(now.saturating_add(DAY)), Bin::Day),
            (None, Some("24h")) => (now.saturating_sub(24 * HOUR), now, Bin::Hour),
            (None, Some("7d")) => (days_ago(7), now, Bin::Day),
            (None, None | Some("30d")) => (days_ago(30), now, Bin::Day),
            (None, Some("90d")) => (days_ago(90), now, Bin::Day),
            (None, Some(cycle @ ("last_cycle" | "1bc" | "3bc"))) => {
                let customer_id = string(body, "customer_id")?;
                let period = customer_id
                    .and_then(|c| self.customers.get(&c))
                    .and_then(|c| {
                        c.account
                            .subs
                            .iter()
                            .find(|s| s.status == Status::Active && s.period_start.is_some())
                    })
                    .and_then(|s| Some((s.period_start?, s.period_end?)));
                let (start, end) = period.unwrap_or((days_ago(30), now));
                let start = if cycle == "3bc" {
                    start.saturating_sub(end.saturating_sub(start).saturating_mul(2))
                } else {
                    start
                };
                (start.max(0), now, Bin::Day)
            }
            (None, Some(other)) => {
                return Err(bad(format!("`range` {other:?} is not a known range")))
            }
        };
        let bin = match string(body, "bin_size")?.as_deref() {
            None => default_bin,
            Some("hour") => Bin::Hour,
            Some("day") => Bin::Day,
            Some("week") => Bin::Week,
            Some("month") => Bin::Month,
            Some(other) => {
                return Err(bad(format!(
                    "`bin_size` {other:?} is not one of hour, day, week, month"
                )))
            }
        };
        let group_by = string(body, "group_by")?;
        let group_key = group_by
            .as_deref()
            .map(|g| g.strip_prefix("properties.").unwrap_or(g).to_owned());
        // The bins, counted before anything is summed: at most `max_bins` steps.
        let max_bins = MAX_AGGREGATE_BINS.min(MAX_AGGREGATE_CELLS / features.len());
        let mut bins = Vec::new();
        let mut bin_start = time::floor(start, bin);
        while bin_start <= end {
            if bins.len() == max_bins {
                return Err(bad(format!(
                    "`events.aggregate` answers at most {MAX_AGGREGATE_BINS} bins and \
                     {MAX_AGGREGATE_CELLS} values (bins × features); this range has more than \
                     {max_bins} {} bins for {} features: narrow the range or use a larger bin_size",
                    bin.as_str(),
                    features.len()
                )));
            }
            bins.push(bin_start);
            bin_start = time::next_bin(bin_start, bin);
        }
        let events = self.matching_events(body, Some((start, end.max(start).saturating_add(1))))?;
        // One pass over the events: each adds to its (bin, feature) value and group.
        let mut values = vec![0.0; bins.len() * features.len()];
        let mut groups: BTreeMap<usize, Map<String, Value>> = BTreeMap::new();
        let mut totals = vec![(0usize, 0.0); features.len()];
        for e in &events {
            let Some(f) = features.iter().position(|f| *f == e.feature_id) else {
                continue;
            };
            totals[f].0 += 1;
            totals[f].1 += e.value;
            // The last bin starting at or before the event (bins are contiguous and cover the range).
            let Some(b) = bins.partition_point(|&b| b <= e.timestamp).checked_sub(1) else {
                continue;
            };
            let cell = b * features.len() + f;
            values[cell] += e.value;
            if let Some(key) = &group_key {
                let label = match e.properties.get(key) {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => "unknown".to_owned(),
                };
                let group = groups.entry(cell).or_default();
                let sum = group.get(&label).and_then(Value::as_f64).unwrap_or(0.0) + e.value;
                group.insert(label, json!(sum));
            }
        }
        let list: Vec<Value> = bins
            .iter()
            .enumerate()
            .map(|(b, period)| {
                let row = b * features.len();
                let mut by_feature = Map::new();
                let mut grouped = Map::new();
                for (f, id) in features.iter().enumerate() {
                    // A feature named twice keeps its first column (the one its events went to).
                    by_feature
                        .entry(id.clone())
                        .or_insert_with(|| json!(values[row + f]));
                    if group_key.is_some() {
                        let group = groups.remove(&(row + f)).unwrap_or_default();
                        grouped.entry(id.clone()).or_insert(Value::Object(group));
                    }
                }
                let mut entry = json!({ "period": period, "values": by_feature });
                if group_key.is_some() {
                    entry["grouped_values"] = Value::Object(grouped);
                }
                entry
            })
            .collect();
        let mut total = Map::new();
        for (f, id) in features.iter().enumerate() {
            let (count, sum) = totals[f];
            total
                .entry(id.clone())
                .or_insert_with(|| json!({ "count": count, "sum": sum }));
        }
        Ok(json!({ "list": list, "total": total }))
    }

    // ---------------------------------------------------------------------------------------------
    // Referrals.

    fn create_code(&mut self, body: &Value) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let program_id = required(body, "program_id")?;
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
        if let Some(existing) = self
            .codes
            .values()
            .find(|c| c.customer_id == customer_id && c.program_id == program_id)
        {
            return Ok(json!({
                "code": existing.code,
                "customer_id": customer_id,
                "created_at": existing.created_at,
            }));
        }
        self.seq += 1;
        let code = format!("REF{:06}", self.seq);
        self.codes.insert(
            code.clone(),
            ReferralCode {
                code: code.clone(),
                customer_id: customer_id.clone(),
                program_id,
                created_at: self.now,
            },
        );
        Ok(json!({ "code": code, "customer_id": customer_id, "created_at": self.now }))
    }

    fn redeem_code(&mut self, body: &Value) -> Outcome {
        let customer_id = required(body, "customer_id")?;
        let code = required(body, "code")?;
        let owner = self.codes.get(&code).ok_or_else(|| {
            Reply::error(
                404,
                "referral_code_not_found",
                format!("Referral code {code:?} not found"),
            )
        })?;
        if owner.customer_id == customer_id {
            return Err(bad("A customer cannot redeem their own referral code"));
        }
        if self
            .redemptions
            .iter()
            .any(|(c, who)| c == &code && who == &customer_id)
        {
            return Err(bad(format!(
                "Customer {customer_id:?} already redeemed the code {code:?}"
            )));
        }
        let reward_id = format!("{}_reward", owner.program_id);
        self.ensure_customer(&customer_id, body.get("customer_data"))?;
        self.redemptions.push((code, customer_id.clone()));
        let id = self.next_id("redemption");
        Ok(json!({ "id": id, "customer_id": customer_id, "reward_id": reward_id }))
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

/// A check's `lock`: its id and expiry, when it is enabled.
fn lock(body: &Value) -> Result<Option<(String, Option<i64>)>, Reply> {
    let lock = match body.get("lock") {
        None | Some(Value::Null) => return Ok(None),
        Some(l @ Value::Object(_)) => l,
        Some(_) => return Err(bad("`lock` must be an object")),
    };
    if !boolean(lock, "enabled")? {
        return Ok(None);
    }
    let id = required(lock, "lock_id").map_err(|_| bad("`lock.lock_id` is required"))?;
    let expires_at = number(lock, "expires_at")?.map(|ms| ms as i64);
    Ok(Some((id, expires_at)))
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

/// One page of `items` after `start_cursor` (the key of the last item of the previous page; a
/// cursor that names no item gives an empty page), at most `limit` long.
fn paginate<'a, T>(
    items: &'a [T],
    key: impl Fn(&T) -> &str,
    body: &Value,
    default_limit: usize,
) -> Result<(&'a [T], Value), Reply> {
    let start = match string(body, "start_cursor")?.as_deref() {
        None | Some("") => 0,
        Some(cursor) => items
            .iter()
            .position(|item| key(item) == cursor)
            .map_or(items.len(), |i| i + 1),
    };
    let limit = number(body, "limit")?.map_or(default_limit, |l| l.clamp(1.0, 1000.0) as usize);
    let end = (start + limit).min(items.len());
    let next = match end.checked_sub(1) {
        Some(last) if end < items.len() => json!(key(&items[last])),
        _ => Value::Null,
    };
    Ok((&items[start..end], next))
}

/// What attaching `plan` to `account` does (see [`Action`]).
fn action(catalog: &Catalog, account: &Account, plan: &Plan) -> Action {
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
fn grant(
    item: &super::catalog::PlanItem,
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
fn start(account: &mut Account, plan: &Plan, sub_id: String, now: i64, seq: &mut u64) {
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
fn drop_scheduled(account: &mut Account, catalog: &Catalog, group: Option<&str>) {
    account.subs.retain(|s| {
        s.status != Status::Scheduled
            || catalog
                .plan_by_id(&s.plan_id)
                .is_none_or(|p| p.add_on || p.group.as_deref() != group)
    });
}

/// Keeps an entity's copies of its customer's allowances in step: one per customer grant, with
/// the entity's own usage, reset when the customer's grant resets.
fn mirror(customer: &Account, entity: &mut Account) {
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

/// Brings one account up to `now` (see [`Engine::settle`]).
fn settle_account(
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
