//! An embedded, in-memory Autumn: the current Autumn API's wire format, state in memory.
//!
//! [`OfflineAutumn`] is a transport (a `tower::Service<http::Request<Full<Bytes>>>`) that *is* a small
//! Autumn. Plug it into a [`Client`] or an [`AutumnService`](crate::AutumnService) and
//! your app bills against it exactly as against the real API, with no account, no key and no
//! network: the quickstart runs on it when `AUTUMN_SECRET_KEY` is not set, and your tests can walk a
//! customer through a paywall with it.
//!
//! ```
//! use autumn_tower::offline::OfflineAutumn;
//! use autumn_tower::models::{CheckParams, GetOrCreateCustomerParams, TrackParams};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), autumn_tower::Error> {
//! let autumn = OfflineAutumn::new(); // the default catalogue: free (100 messages/month), pro, top_up
//! let client = autumn.client();
//!
//! client.customers().get_or_create(&GetOrCreateCustomerParams::new("user_1")).await?;
//! let check = client.balances().check(&CheckParams::new("user_1", "messages")).await?;
//! assert!(check.allowed);
//! client.balances().track(&TrackParams::new("user_1", "messages", 100.0)).await?;
//! let check = client.balances().check(&CheckParams::new("user_1", "messages")).await?;
//! assert!(!check.allowed); // the free allowance is used up
//! # Ok(()) }
//! ```
//!
//! # What it does
//!
//! - `customers.get_or_create` creates a customer on first sight with the catalogue's auto-enabled
//!   plan; `check`, `track`, `attach` and the other billing calls create an unknown customer the same
//!   way. `customers.get`, `list`, `update` and `delete` work on what exists.
//! - `plans.list` lists the catalogue, with each plan's `customer_eligibility` (`attach_action`
//!   `activate`, `upgrade`, `downgrade`, `purchase` or `none`) when a customer is given.
//! - `billing.attach`:
//!   - a free plan is activated at once;
//!   - a paid plan, for a customer without a payment method, answers a checkout URL with an
//!     unguessable id (`<base URL>/checkout/co_<32 hex digits>`) and changes nothing until
//!     [`complete_checkout`](OfflineAutumn::complete_checkout) (what a test calls after "the user paid"),
//!     or a click on that page when the offline Autumn is [served](OfflineAutumn::serve);
//!   - with a payment method, the plan is attached at once following the [plan rules](#plans-upgrades-downgrades-add-ons).
//!     Attaching a plan that is already active (or already scheduled) answers 400
//!     `plan_already_attached`; attaching one whose cancellation is pending undoes the cancellation.
//! - `billing.preview_attach` and `preview_multi_attach` describe that change (line items, the next
//!   cycle, incoming and outgoing plans, whether it redirects to checkout); `billing.multi_attach`
//!   attaches several plans with one checkout.
//! - `billing.update` and its preview implement `cancel_action` (`cancel_end_of_cycle`,
//!   `cancel_immediately`, `uncancel`); a customer left without a main plan gets the auto-enabled
//!   plan back. `billing.multi_update` (and its preview, one core preview per update) carries out
//!   several such updates in one call — cancel a main plan with its add-ons, or plans of several
//!   entities — each with its own `plan_id` or `subscription_id` and an `entity_id` that overrides
//!   the top-level one. Every update is checked first: one that fails (unknown plan, a plan that is
//!   not canceled to uncancel, two updates of the same subscription) fails the call and changes
//!   nothing.
//! - `balances.check` answers from the balance (`required_balance`, default 1) or the flag, creates
//!   the paywall `preview` when asked (`with_preview`), and tracks when `send_event` is set.
//! - A `check` with an enabled `lock` (`lock_id`, optional `expires_at` in ms) holds the units until
//!   `balances.finalize` (see [Locks](#locks)).
//! - `balances.track` draws the usage from the allowances (see [Checks and deductions](#checks-and-deductions))
//!   and records an event.
//! - `events.list` and `events.aggregate` read those events (ranges `24h`, `7d`, `30d`, `90d`, the
//!   billing cycle, or `custom_range`; bins by hour, day, week or month; `group_by` a property).
//! - Entities: each entity gets its own copy of every customer allowance (a per-seat allowance, with
//!   its own usage) plus the plans attached to it; `check` and `track` with an `entity_id` use the
//!   entity's balances.
//! - `billing.open_customer_portal` and `billing.setup_payment` answer URLs under the base URL;
//!   completing a setup gives the customer a payment method (and attaches its plan, if it named one).
//! - `referrals.create_code` gives one code per customer and program; `redeem_code` records the
//!   redemption (no reward is granted).
//! - Every call accepts an `Idempotency-Key` header: a repeated key answers 409
//!   `duplicate_idempotency_key` and changes nothing, as Autumn does. Only successful calls use up
//!   their key.
//! - Fields that shape a real Stripe charge but not the state a paywall reads are accepted and ignored:
//!   `customize`, `discounts`, `invoice_mode`, `version`, `custom_line_items`, `feature_quantities` on
//!   attach, `checkout_session_params`, `redirect_mode`, `free_trial` and `expand` values other than
//!   `invoices`, `entities`, `subscriptions.plan` and `purchases.plan`. The catalogue's prices are what is charged.
//! - The API's other operations answer 501 `not_implemented` (see [Operations](#operations)). Bad input answers 400
//!   `invalid_request`; unknown ids answer 404 (`customer_not_found`, `plan_not_found`, ...).
//! - Only the offline Autumn's own key is accepted (`Authorization: Bearer <key>`, the public
//!   [`PLACEHOLDER_KEY`] unless built [`with_secret_key`](OfflineAutumn::with_secret_key)), in
//!   process as over HTTP; a missing or other key answers 401 `unauthorized`.
//!
//! # Operations
//!
//! Of the 67 operations of the Autumn API (`spec/autumn-api-2.x.json`), the offline Autumn
//! implements the 31 an app and its paywall tests call:
//!
//! - `customers.get_or_create`, `get`, `list`, `update`, `delete`;
//! - `entities.create`, `get`, `list`, `update`, `delete`;
//! - `plans.list`, `plans.get`, `features.list`, `features.get`;
//! - `billing.attach`, `preview_attach`, `multi_attach`, `preview_multi_attach`, `update`,
//!   `preview_update`, `multi_update`, `preview_multi_update`, `setup_payment`,
//!   `open_customer_portal`;
//! - `balances.check`, `track`, `finalize`;
//! - `events.list`, `events.aggregate`;
//! - `referrals.create_code`, `referrals.redeem_code`.
//!
//! The other 36 answer 501 `not_implemented` with a message naming the path and the reason. They
//! manage the catalogue, the account or the platform, which an app's paywall does not do at run
//! time:
//!
//! - catalogue management — `plans.create`, `update`, `delete`, `features.create`, `update`,
//!   `delete`, `billing.create_schedule`: the catalogue is fixed when the offline Autumn is built
//!   ([`with_catalog`](OfflineAutumn::with_catalog));
//! - balance administration — `balances.create`, `update`, `delete`: balances come from plans;
//!   `balances.track_tokens` and `batch_track`: metering goes through `balances.track`;
//! - `licenses.attach`, `release`, `list_assignments`, `list`: licenses need prepaid quantities;
//! - `referral_programs.*` and `rewards.*` (create, list, get, update, delete, `rewards.redeem`):
//!   programs and rewards are dashboard settings;
//! - platform operations — `invoices.insert`, `invoices.list`, `billing.import`,
//!   `platform.link_revenuecat`, `sync_revenuecat`, `get_revenuecat_keys`, `keys.mint`, `refresh`,
//!   `revoke`: there is no payment processor and one fixed key.
//!
//! Any other path answers 501 too.
//!
//! # Rules
//!
//! ## Plans: upgrades, downgrades, add-ons
//!
//! A plan that is not an add-on is a *main* plan; main plans of the same `group` (plans without a
//! group form one group) replace each other, and an account has at most one active main plan per
//! group. Attaching a plan does what `customer_eligibility.attach_action` says:
//!
//! - `activate`: no main plan of its group is active (or it is an add-on): it starts now.
//! - `upgrade`: it costs as much as the active main plan of its group or more: it replaces it now.
//!   The old plan's allowances go (their usage with them), the new plan's start at zero usage with a
//!   billing period that starts now, and a downgrade scheduled in the group is dropped.
//! - `downgrade`: it costs less: the current plan is canceled and ends at the end of its period
//!   (at once if it has none, like a free plan), when the new plan starts; it replaces a downgrade
//!   already scheduled in the group. Until then the new plan is `scheduled`: its allowances and its
//!   billing period start when the clock passes that time, with zero usage.
//! - Add-ons sit beside the main plan and every other add-on, and never replace anything.
//! - `purchase`: a one-off plan (`Interval::OneOff` price) is bought every time it is attached;
//!   its allowances are added beside the others.
//! - `none`: it is already active or scheduled: 400 `plan_already_attached`. A plan whose
//!   cancellation is pending is renewed instead (attach undoes the cancellation, free of charge).
//!
//! ## Charges and proration
//!
//! There is no proration: an activation, upgrade or purchase of a paid plan charges the plan's full
//! price now (nothing is credited for the unused part of the plan an upgrade replaces, and its usage
//! does not carry over), a downgrade charges nothing now, a cancellation refunds nothing, renewing a
//! plan whose cancellation is pending is free, and previews of updates total 0. A charge needs a payment method: without one, attach answers a checkout URL
//! (see above) and completing it attaches the plans; with one, the charge is a paid invoice
//! (`expand: ["invoices"]`). Several plans in one `multi_attach` share one checkout and one invoice.
//!
//! ## Cancellations
//!
//! `billing.update` finds the active plan by `plan_id`, else by `subscription_id`, else the
//! account's main plan outside any group (404 `subscription_not_found` when none matches).
//! `cancel_end_of_cycle` ends it at the end of its billing period (at once without one);
//! `cancel_immediately` ends it now; `uncancel` undoes a pending cancellation (400 if it is not
//! canceled) and drops a downgrade scheduled in its group. An ended plan takes its allowances with
//! it. A customer left without a main plan in a group gets the catalogue's `auto_enable` plan of
//! that group back (entities do not).
//!
//! ## Several updates at once
//!
//! `billing.multi_update` takes `updates` (1 to 100), each a `billing.update` with its own
//! `cancel_action` (required), `plan_id` or `subscription_id`, and `entity_id` (else the top-level
//! one). All or none: every update is resolved against the state before the call first, and the
//! first that fails answers for the whole call (a 400 names it, `` `updates[2]`: ... ``), as do two
//! updates of the same subscription; only then are they carried out, in order.
//! `preview_multi_update` answers one `preview_update` per update (total 0) and changes nothing.
//!
//! ## Resets and periods
//!
//! Each allowance with a `reset` interval resets its usage to zero when the clock passes its next
//! boundary, counted from when the allowance started (calendar months); one jump of the clock past
//! several boundaries resets once. Allowances without a `reset` (and one-off purchases' allowances
//! without one) never reset. Billing periods roll over the same way, from the plan's start.
//!
//! ## Checks and deductions
//!
//! `balances.check` is allowed when an allowance of the feature is unlimited or the allowances'
//! remaining sum is at least `required_balance` (default 1); a boolean feature is allowed when any
//! plan grants it; a feature no plan of the account grants is not allowed. `balances.track` draws
//! usage from an unlimited allowance if there is one, otherwise from the allowances that reset
//! first, then the ones that never do, in the order they were granted; with `overage_behavior:
//! "cap"` (the default) it draws only what is left, with `"overflow"` the rest goes to the first
//! allowance, whose balance goes negative. A negative value gives usage back, to the allowances that
//! never reset first, never below zero usage. Every track records an event with its deductions, even
//! one that drew nothing.
//!
//! ## Entities
//!
//! An entity (`entities.create`, naming the feature it uses) gets its own copy of every allowance of
//! its customer, with its own usage; the copy follows the customer's allowance (its amount, its
//! resets) and goes when it goes. Plans attached with an `entity_id` belong to the entity and add
//! their allowances to it only. `check` and `track` with an `entity_id` use the entity's balances;
//! without one, the customer's own (entities' usage is not added up).
//!
//! ## Locks
//!
//! A `check` with an enabled `lock` that is allowed on a metered feature draws `required_balance`
//! at once (as a `track` with `overage_behavior: "cap"` would, but recording no event yet) and
//! holds it under `lock_id` until `balances.finalize`; a denied check, or one on a boolean feature,
//! holds nothing. `finalize` with `action`:
//!
//! - `confirm` keeps the units and records the event then, with the `properties` it sends; with an
//!   `override_value` (not negative) other than the held amount, the held units go back and that
//!   amount is drawn instead, like a `track`;
//! - `release` gives the units back to the allowances they came from (never below zero usage).
//!
//! A lock whose `expires_at` (milliseconds) the clock passes is released by itself. A held lock id
//! answers 409 `lock_already_exists`; an unknown, finalized or expired one 404 `lock_not_found`. A
//! reset while a lock is held clears the held units with the rest of the usage, so nothing is
//! given back for them afterwards.
//!
//! # Limits
//!
//! The offline Autumn is a development tool, but a call to it never does unbounded work while it
//! holds the state's lock, and request numbers never overflow. Past these limits a call answers 400
//! `invalid_request` (`{message, code}`) and changes nothing:
//!
//! - An array in a body (`feature_id`, `plans`, `updates`) has at most 100 entries.
//! - `events.aggregate` answers at most 10,000 bins and at most 50,000 values (bins × features), so
//!   at most 500 daily bins for 100 features, or a year of hourly bins for 5 features. The bins are
//!   counted (at most 10,001 steps) before any event is read; the events are then summed in one pass,
//!   so its work is the number of stored events plus the number of values.
//! - Times (`custom_range.start`, `custom_range.end`) are milliseconds from 1970 to the end of year
//!   9999 (253,402,300,799,999), with `start` not after `end`. The clock stops at that time too.
//! - Amounts (`value` of `balances.track`, `required_balance` of `balances.check`) are at most 10^15
//!   either way, so balances stay finite (JSON has no infinity).
//! - Served over HTTP, a body is at most 1 MiB (413 past it); it is parsed into JSON before the
//!   lock is taken, and the arrays above are checked before anything is copied out of it.
//!
//! # Serving it
//!
//! [`serve`](OfflineAutumn::serve) listens on loopback only (`127.0.0.1`, `::1`, `localhost`) and
//! refuses any other address; [`serve_exposed`](OfflineAutumn::serve_exposed) is the explicit
//! opt-in for other interfaces. A checkout or setup page's form carries a per-page token (a v4
//! UUID, from the OS's random generator, like the page's id): a POST to the page without it answers
//! 403 and completes nothing. The form posts to `/checkout/<id>` (or `/setup/<id>`), built from the
//! id, never from the request's path.
//!
//! # Time and state
//!
//! The [clock](OfflineAutumn::advance) starts at the wall-clock time and moves only when you move
//! it; monthly allowances reset and billing periods roll over when it passes their boundary
//! (calendar months: a period that starts on the 31st renews on the last day of shorter months).
//! [`reset`](OfflineAutumn::reset) forgets every customer, event and checkout between tests. The
//! state sits behind a mutex held only while one call computes its answer (microseconds, no I/O),
//! so it never blocks a runtime thread for long (see [Limits](#limits)). Ids are deterministic
//! (sequential `sub_000001`, `evt_000002`, ...), apart from the checkout and setup ids and page
//! tokens, which are random: the same calls in the same order give the same answers, apart from
//! those and the clock's starting time.

mod catalog;
mod engine;
mod render;
mod server;
mod state;
mod time;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;

pub use self::catalog::{
    Catalog, CatalogError, Feature, FeatureDisplay, FeatureKind, Interval, Plan, PlanItem, Price,
};
pub use self::server::OfflineServer;

use self::engine::{Engine, Reply};
use crate::client::Client;

/// The base URL of the fake checkout, setup and portal pages when the offline Autumn is not served
/// on a port (`.invalid` is a reserved name: it never resolves).
pub const DEFAULT_PAGES_URL: &str = "https://offline.autumn.invalid";

/// The secret key an offline Autumn answers unless it was built
/// [`with_secret_key`](OfflineAutumn::with_secret_key): its [`client`](OfflineAutumn::client) and
/// [`AutumnServiceBuilder::offline`](crate::AutumnServiceBuilder::offline) send it, and tools that
/// call a [served](OfflineAutumn::serve) offline Autumn send it as `Authorization: Bearer am_sk_offline`.
pub const PLACEHOLDER_KEY: &str = "am_sk_offline";

/// An in-memory Autumn API. Cheap to clone: clones share the same state. See the
/// [module documentation](self).
#[derive(Clone)]
pub struct OfflineAutumn {
    engine: Arc<Mutex<Engine>>,
    key: Arc<str>,
}

impl fmt::Debug for OfflineAutumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let engine = self.lock();
        f.debug_struct("OfflineAutumn")
            .field("plans", &engine.catalog.plans.len())
            .field("features", &engine.catalog.features.len())
            .field("pages_url", &engine.base_url)
            .finish_non_exhaustive()
    }
}

impl Default for OfflineAutumn {
    fn default() -> Self {
        OfflineAutumn::new()
    }
}

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl OfflineAutumn {
    /// An offline Autumn selling the [default catalogue](Catalog::default).
    pub fn new() -> Self {
        OfflineAutumn::with_catalog(Catalog::default())
    }

    /// An offline Autumn selling `catalog`.
    pub fn with_catalog(catalog: Catalog) -> Self {
        OfflineAutumn {
            engine: Arc::new(Mutex::new(Engine::new(
                catalog,
                DEFAULT_PAGES_URL.to_owned(),
                wall_clock_ms(),
            ))),
            key: Arc::from(PLACEHOLDER_KEY),
        }
    }

    /// This offline Autumn answering `key` instead of [`PLACEHOLDER_KEY`]: every other key gets 401
    /// `unauthorized`, in process and over HTTP. Set it before cloning or serving: clones made
    /// earlier keep the key they had. An empty key is never sent, so with one no call is answered.
    pub fn with_secret_key(mut self, key: impl Into<String>) -> Self {
        self.key = Arc::from(key.into());
        self
    }

    /// The secret key this offline Autumn answers.
    pub fn secret_key(&self) -> &str {
        &self.key
    }

    fn lock(&self) -> MutexGuard<'_, Engine> {
        // A panic while holding the lock cannot leave the state half-written in a way later calls
        // trip over more than the panic itself did, so a poisoned lock is still used.
        self.engine.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A [`Client`] that calls this offline Autumn (with its [key](OfflineAutumn::secret_key)).
    pub fn client(&self) -> Client<OfflineAutumn> {
        Client::builder()
            .secret_key(self.secret_key())
            .build_with_transport(self.clone())
            .expect("a client with a fixed key and the default URL always builds")
    }

    /// The clock's current time.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.lock().now.max(0) as u64)
    }

    /// Sets the clock (it never moves by itself). Moving it backwards does not undo resets. Times
    /// before 1970 are 1970, times after the end of year 9999 are the end of year 9999.
    pub fn set_time(&self, time: SystemTime) {
        let ms = time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        self.lock().now = ms.min(engine::MAX_TIME_MS);
    }

    /// Moves the clock forward: allowances reset and periods roll over as their boundaries pass.
    /// It stops at the end of year 9999.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let mut engine = self.lock();
        engine.now = engine.now.saturating_add(by).min(engine::MAX_TIME_MS);
    }

    /// Forgets every customer, entity, event, checkout, referral code and idempotency key. The
    /// catalogue and the clock stay.
    pub fn reset(&self) {
        self.lock().reset();
    }

    /// Completes a checkout or a payment setup (its URL, or the id it ends with) as if the customer
    /// paid: the customer gets a payment method and the plans are attached. Returns the
    /// `success_url` the attach named, if any.
    pub fn complete_checkout(&self, url: &str) -> Result<Option<String>, CheckoutError> {
        self.lock().complete_checkout(url).map_err(CheckoutError)
    }

    /// The URLs of the checkouts and payment setups not completed yet, oldest first.
    pub fn open_checkouts(&self) -> Vec<String> {
        self.lock().open_checkouts()
    }

    /// Serves this offline Autumn over HTTP on `addr` (`127.0.0.1:0` picks a free port), for tools
    /// that are not Rust. It answers the API under `/v1/` (to its [key](OfflineAutumn::secret_key)
    /// only) and the checkout, setup and portal pages, and from then on the URLs it hands out point
    /// at this server, so a browser can "pay".
    ///
    /// `addr` must be a loopback address (`127.0.0.1`, `::1`, or a name such as `localhost` that
    /// resolves only to loopback): anything else fails with [`std::io::ErrorKind::InvalidInput`]
    /// and binds nothing. To listen on another interface, say so with
    /// [`serve_exposed`](OfflineAutumn::serve_exposed).
    pub async fn serve(
        &self,
        addr: impl tokio::net::ToSocketAddrs,
    ) -> std::io::Result<OfflineServer> {
        server::serve(self.clone(), addr, server::Exposure::LoopbackOnly).await
    }

    /// Serves like [`serve`](OfflineAutumn::serve), on any address, including every interface
    /// (`0.0.0.0`). Whoever reaches that address can call the API with the offline Autumn's key
    /// (by default the public [`PLACEHOLDER_KEY`]: give it a key of your own with
    /// [`with_secret_key`](OfflineAutumn::with_secret_key)) and open the checkout pages it hands
    /// out. Use it only on a network you trust.
    pub async fn serve_exposed(
        &self,
        addr: impl tokio::net::ToSocketAddrs,
    ) -> std::io::Result<OfflineServer> {
        server::serve(self.clone(), addr, server::Exposure::AnyAddress).await
    }

    pub(crate) fn set_pages_url(&self, url: String) {
        self.lock().base_url = url;
    }

    pub(crate) fn describe_checkout(&self, id: &str) -> Option<state::CheckoutPage> {
        self.lock().describe_checkout(id)
    }

    /// Completes checkout `id` from its page: only with the token the page carries.
    pub(crate) fn complete_checkout_page(
        &self,
        id: &str,
        token: &str,
    ) -> Result<Option<String>, PageError> {
        let mut engine = self.lock();
        match engine.checkout_token(id) {
            None => Err(PageError::NotFound(format!("no open checkout {id:?}"))),
            Some(expected) if !same_key(token.as_bytes(), expected.as_bytes()) => {
                Err(PageError::Forbidden)
            }
            Some(_) => engine.complete_checkout(id).map_err(PageError::NotFound),
        }
    }

    /// Answers one API request (method, path, headers and body already read).
    pub(crate) fn answer(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> Response<Full<Bytes>> {
        let reply = self.reply(parts, body);
        let bytes = serde_json::to_vec(&reply.body).unwrap_or_default();
        Response::builder()
            .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(bytes)))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
    }

    fn reply(&self, parts: &http::request::Parts, body: &[u8]) -> Reply {
        let path = parts.uri.path();
        let Some(op) = path.strip_prefix("/v1/").filter(|op| !op.contains('/')) else {
            return Reply::error(
                501,
                "not_implemented",
                format!(
                    "The offline Autumn does not implement {} {path}",
                    parts.method
                ),
            );
        };
        if parts.method != http::Method::POST {
            return Reply::error(
                405,
                "method_not_allowed",
                format!("{} {path}: the Autumn API takes POST", parts.method),
            );
        }
        let sent = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match sent.filter(|sent| !sent.trim().is_empty()) {
            None => {
                return Reply::error(
                    401,
                    "unauthorized",
                    "Missing secret key: send `Authorization: Bearer <key>` with the offline \
                     Autumn's key",
                )
            }
            Some(sent) if !same_key(sent.as_bytes(), self.key.as_bytes()) => {
                return Reply::error(
                    401,
                    "unauthorized",
                    "Invalid secret key: the offline Autumn answers only the key it was built \
                     with (OfflineAutumn::secret_key)",
                )
            }
            Some(_) => {}
        }
        let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            match serde_json::from_slice(body) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => {
                    return Reply::error(400, "invalid_request", "The body must be a JSON object")
                }
                Err(e) => {
                    return Reply::error(
                        400,
                        "invalid_request",
                        format!("The body is not valid JSON: {e}"),
                    )
                }
            }
        };
        let key = parts
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok());
        self.lock().handle(op, &body, key)
    }
}

/// Why a checkout page did not complete its checkout.
#[derive(Debug)]
pub(crate) enum PageError {
    /// No such open checkout, or the attach failed.
    NotFound(String),
    /// The form did not carry the page's token.
    Forbidden,
}

/// Compares two keys in time that depends on their lengths only, not on where they differ.
fn same_key(sent: &[u8], key: &[u8]) -> bool {
    sent.len() == key.len() && sent.iter().zip(key).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

impl tower::Service<Request<Full<Bytes>>> for OfflineAutumn {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Full<Bytes>>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(never) => match never {},
            };
            Ok(this.answer(&parts, &bytes))
        })
    }
}

/// [`OfflineAutumn::complete_checkout`] found nothing to complete, or the attach failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutError(String);

impl fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot complete the checkout: {}", self.0)
    }
}

impl std::error::Error for CheckoutError {}
