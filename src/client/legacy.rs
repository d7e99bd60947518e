//! The v1.2 Autumn API: the calls autumn-js 0.x's backend and the Python SDK (autumn-py 3.x) make.
//!
//! Every call here sends `x-api-version: 1.2` whatever the client's configured version, so one
//! [`Client`](crate::Client) speaks both APIs. The wire format is the v1.2 one: snake_case JSON bodies, REST paths such as
//! `POST /v1/attach` or `GET /v1/customers/{customer_id}/entities/{entity_id}`. Ids placed in a path are
//! percent-encoded, so an id can never reach another path or another query parameter.
//!
//! ```no_run
//! use autumn_tower::client::legacy::{AttachParams, CheckParams};
//!
//! # async fn demo() -> Result<(), autumn_tower::Error> {
//! let client = autumn_tower::Client::from_env()?;
//! let check = client.legacy().check(&CheckParams::feature("user_123", "messages")).await?;
//! if !check.allowed {
//!     let attach = client.legacy().attach(&AttachParams::product("user_123", "pro")).await?;
//!     if let Some(url) = attach.checkout_url {
//!         println!("pay here: {url}");
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Types follow the crate's conventions (see [`models`](crate::models)): the fields a caller usually needs
//! are typed, everything else travels in `extra`, optional fields are omitted when unset, and user-data
//! maps (`properties`, `metadata`, `checkout_session_params`) keep their keys byte for byte.
//!
//! Retries follow the [client's rules](super#retries-never-double-bill): reads (`check` without
//! `send_event`, `query`, customer, entity, product and event reads, and the customer create, which
//! returns the existing customer) may be repeated; writes (`attach`, `checkout`, `setup_payment`,
//! `cancel`, `track`, `billing_portal`, entity create and delete, referrals) only when the request was
//! never sent.

use std::borrow::Cow;
use std::fmt::Write as _;

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::List;
use crate::transport::HttpTransport;

/// The API version every call of this module sends in `x-api-version`.
pub const API_VERSION: &str = "1.2";

resource! {
    /// The v1.2 API calls. Get one with [`Client::legacy`](crate::Client::legacy).
    Legacy
}

/// Customer details sent with a call, used when Autumn creates the customer on first sight.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CustomerData {
    /// The customer's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The customer's email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A device or browser fingerprint, to detect duplicate customers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Any other field, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A feature quantity chosen at attach or checkout (e.g. 5 seats).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct FeatureOption {
    /// The feature.
    pub feature_id: String,
    /// The quantity.
    pub quantity: f64,
    /// Any other field, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One feature id or several.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum FeatureIds {
    /// A single feature.
    One(String),
    /// Several features.
    Many(Vec<String>),
}

impl Default for FeatureIds {
    fn default() -> Self {
        FeatureIds::Many(Vec::new())
    }
}

impl From<&str> for FeatureIds {
    fn from(id: &str) -> Self {
        FeatureIds::One(id.to_owned())
    }
}

impl From<String> for FeatureIds {
    fn from(id: String) -> Self {
        FeatureIds::One(id)
    }
}

impl From<Vec<String>> for FeatureIds {
    fn from(ids: Vec<String>) -> Self {
        FeatureIds::Many(ids)
    }
}

/// `POST /v1/attach`: give a customer a product, or get a checkout URL when payment is needed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct AttachParams {
    /// Your id of the customer.
    pub customer_id: String,
    /// The product to attach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Several products to attach at once (instead of `product_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_ids: Option<Vec<String>>,
    /// Attach to one entity of the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// Quantities of prepaid features.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<FeatureOption>>,
    /// Where Stripe sends the customer after paying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    /// Always go through Stripe Checkout, even with a payment method on file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_checkout: Option<bool>,
    /// Whether the product's free trial applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_trial: Option<bool>,
    /// A reward or promotion code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward: Option<String>,
    /// Passed to Stripe's checkout session as-is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_session_params: Option<Map<String, Value>>,
    /// Used if Autumn creates the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_data: Option<CustomerData>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AttachParams {
    /// Attaches `product_id` to `customer_id`.
    pub fn product(customer_id: impl Into<String>, product_id: impl Into<String>) -> Self {
        AttachParams {
            customer_id: customer_id.into(),
            product_id: Some(product_id.into()),
            ..Default::default()
        }
    }
}

/// The answer of `attach`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct AttachResponse {
    /// Set when the customer must pay first: send them there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_url: Option<String>,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The products attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_ids: Option<Vec<String>>,
    /// What happened (e.g. `checkout_created`, `new_product_attached`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A human-readable account of what happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Everything else Autumn sent (e.g. `invoice`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/checkout`: what attaching a product would cost, with a Stripe URL when payment is needed.
pub type CheckoutParams = AttachParams;

/// The answer of `checkout`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckoutResponse {
    /// The Stripe Checkout URL, when the customer must pay there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The invoice lines of the preview.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<Value>>,
    /// The total, in the currency's main unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// The currency (e.g. `usd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The product being bought.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<Value>,
    /// Everything else Autumn sent (e.g. `has_prorations`, `next_cycle`, `current_product`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/setup_payment`: a Stripe page where the customer saves a payment method.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SetupPaymentParams {
    /// Your id of the customer.
    pub customer_id: String,
    /// Where Stripe sends the customer afterwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    /// Passed to Stripe's checkout session as-is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_session_params: Option<Map<String, Value>>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `setup_payment`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SetupPaymentResponse {
    /// The customer.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// The Stripe page.
    pub url: String,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/cancel`: cancel a customer's product.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CancelParams {
    /// Your id of the customer.
    pub customer_id: String,
    /// The product to cancel.
    pub product_id: String,
    /// Cancel it for one entity only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// Cancel now rather than at the end of the billing cycle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_immediately: Option<bool>,
    /// Any other field of the API (e.g. `prorate`), sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `cancel`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CancelResponse {
    /// Whether the product was canceled.
    #[serde(default)]
    pub success: Option<bool>,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/check`: may this customer use this feature (or have this product)?
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckParams {
    /// Your id of the customer.
    pub customer_id: String,
    /// The feature to check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_id: Option<String>,
    /// The product to check (instead of a feature).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Check one entity's balance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// How much is about to be used (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_balance: Option<f64>,
    /// Also record `required_balance` as usage when allowed. A check that sends an event is never retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_event: Option<bool>,
    /// Include a `preview` (paywall or upgrade details) in the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with_preview: Option<bool>,
    /// Used if Autumn creates the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_data: Option<CustomerData>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CheckParams {
    /// Checks `feature_id` for `customer_id`.
    pub fn feature(customer_id: impl Into<String>, feature_id: impl Into<String>) -> Self {
        CheckParams {
            customer_id: customer_id.into(),
            feature_id: Some(feature_id.into()),
            ..Default::default()
        }
    }
}

/// The answer of `check`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckResponse {
    /// Whether the customer may go ahead.
    pub allowed: bool,
    /// The customer checked.
    #[serde(default)]
    pub customer_id: String,
    /// Why (e.g. `feature_found`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The feature checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_id: Option<String>,
    /// The entity checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// The balance required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_balance: Option<f64>,
    /// What is left (`null` for unmetered features).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<f64>,
    /// Whether usage is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlimited: Option<bool>,
    /// Everything else Autumn sent (`usage`, `included_usage`, `next_reset_at`, `preview`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/track`: record usage.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TrackParams {
    /// Your id of the customer.
    pub customer_id: String,
    /// The feature used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_id: Option<String>,
    /// An event name, instead of a feature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// How much was used (default 1; negative gives balance back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The entity that used it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// Autumn records one event per key (v1.2 takes it in the body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// User-defined properties; keys are kept byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    /// Used if Autumn creates the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_data: Option<CustomerData>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TrackParams {
    /// Records `value` units of `feature_id` for `customer_id`.
    pub fn feature(
        customer_id: impl Into<String>,
        feature_id: impl Into<String>,
        value: f64,
    ) -> Self {
        TrackParams {
            customer_id: customer_id.into(),
            feature_id: Some(feature_id.into()),
            value: Some(value),
            ..Default::default()
        }
    }
}

/// The answer of `track`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TrackResponse {
    /// The customer.
    #[serde(default)]
    pub customer_id: String,
    /// The event's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The feature tracked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_id: Option<String>,
    /// The event name tracked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/query`: usage over time for a customer.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct QueryParams {
    /// Your id of the customer.
    pub customer_id: String,
    /// The feature(s).
    pub feature_id: FeatureIds,
    /// The period (`24h`, `7d`, `30d`, `90d`, `last_cycle`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `query`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct QueryResponse {
    /// One entry per period.
    #[serde(default)]
    pub list: Vec<Value>,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/customers`: create a customer, or get the existing one with that id.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CreateCustomerParams {
    /// Your id of the customer.
    pub id: Option<String>,
    /// The customer's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The customer's email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A device or browser fingerprint, to detect duplicate customers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Your metadata; keys are kept byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// An existing Stripe customer to link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripe_id: Option<String>,
    /// Related objects to include in the answer (`invoices`, `entities`, `rewards`, ...), sent as the
    /// `expand` query parameter.
    #[serde(skip)]
    pub expand: Vec<String>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CreateCustomerParams {
    /// A customer with this id.
    pub fn new(id: impl Into<String>) -> Self {
        CreateCustomerParams {
            id: Some(id.into()),
            ..Default::default()
        }
    }
}

/// A customer, as the v1.2 API describes it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Customer {
    /// Your id of the customer.
    #[serde(default)]
    pub id: Option<String>,
    /// The customer's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The customer's email address.
    #[serde(default)]
    pub email: Option<String>,
    /// When the customer was created (milliseconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<f64>,
    /// The Stripe customer, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_id: Option<String>,
    /// `sandbox` or `live`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Your metadata.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// The customer's products.
    #[serde(default)]
    pub products: Vec<Value>,
    /// The customer's features, by feature id.
    #[serde(default)]
    pub features: Map<String, Value>,
    /// Everything else Autumn sent (expanded fields such as `invoices` or `entities`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/customers/{customer_id}/billing_portal`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BillingPortalParams {
    /// Where the portal's back button leads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `billing_portal`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct BillingPortalResponse {
    /// The customer.
    #[serde(default)]
    pub customer_id: String,
    /// The Stripe billing portal.
    pub url: String,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/customers/{customer_id}/entities`: a seat, workspace, ... of a customer.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CreateEntityParams {
    /// Your id of the entity.
    pub id: Option<String>,
    /// The entity's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The feature the entity counts against (e.g. `seats`).
    pub feature_id: String,
    /// Used if Autumn creates the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_data: Option<CustomerData>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CreateEntityParams {
    /// An entity `id` counted against `feature_id`.
    pub fn new(id: impl Into<String>, feature_id: impl Into<String>) -> Self {
        CreateEntityParams {
            id: Some(id.into()),
            feature_id: feature_id.into(),
            ..Default::default()
        }
    }
}

/// An entity, as the v1.2 API describes it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Entity {
    /// Your id of the entity.
    #[serde(default)]
    pub id: Option<String>,
    /// The entity's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The customer it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The feature it counts against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_id: Option<String>,
    /// When it was created (milliseconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<f64>,
    /// Its products.
    #[serde(default)]
    pub products: Vec<Value>,
    /// Its features, by feature id.
    #[serde(default)]
    pub features: Map<String, Value>,
    /// Everything else Autumn sent (e.g. `env`, expanded `invoices`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of a delete.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct DeleteResponse {
    /// Whether it was deleted.
    #[serde(default)]
    pub success: bool,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A product, as `GET /v1/products_beta` lists it (with the customer's scenario when a customer is given).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Product {
    /// The product id.
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its items (prices and features).
    #[serde(default)]
    pub items: Vec<Value>,
    /// Everything else Autumn sent (`group`, `is_add_on`, `free_trial`, `scenario`, `properties`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/referrals/code`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CreateReferralCodeParams {
    /// The referring customer.
    pub customer_id: String,
    /// Your referral program.
    pub program_id: String,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A referral code.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ReferralCode {
    /// The code to share.
    pub code: String,
    /// The referring customer.
    #[serde(default)]
    pub customer_id: String,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<f64>,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/referrals/redeem`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RedeemReferralCodeParams {
    /// The code.
    pub code: String,
    /// The customer redeeming it.
    pub customer_id: String,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of a redemption.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RedeemReferralCodeResponse {
    /// The redemption.
    pub id: String,
    /// The customer who redeemed.
    #[serde(default)]
    pub customer_id: String,
    /// The reward granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_id: Option<String>,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A time window in milliseconds since the epoch.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CustomRange {
    /// From (inclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// To.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
}

/// `POST /v1/events/list`: a customer's usage events, paged.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ListEventsParams {
    /// The customer.
    pub customer_id: String,
    /// The feature(s).
    pub feature_id: FeatureIds,
    /// Events to skip.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Page size (default 100, at most 1000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// Only events in this window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_range: Option<CustomRange>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One usage event.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Event {
    /// The event id.
    pub id: String,
    /// When (milliseconds since the epoch).
    pub timestamp: f64,
    /// The feature.
    pub feature_id: String,
    /// The customer.
    pub customer_id: String,
    /// The amount.
    pub value: f64,
    /// The properties tracked with it.
    #[serde(default)]
    pub properties: Map<String, Value>,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A page of events.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct EventsPage {
    /// The events.
    pub list: Vec<Event>,
    /// Whether more pages follow.
    #[serde(default)]
    pub has_more: bool,
    /// The offset of this page.
    #[serde(default)]
    pub offset: f64,
    /// The page size asked for.
    #[serde(default)]
    pub limit: f64,
    /// How many events this page holds.
    #[serde(default)]
    pub total: f64,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/events/aggregate`: usage summed per period.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct AggregateEventsParams {
    /// The customer.
    pub customer_id: String,
    /// The feature(s).
    pub feature_id: FeatureIds,
    /// The period (`24h`, `7d`, `30d`, `90d`, `last_cycle`, `1bc`, `3bc`), or use `custom_range`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// `day` or `hour`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bin_size: Option<String>,
    /// A property to group by (`properties.<name>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// An explicit window instead of `range`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_range: Option<CustomRange>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of `events/aggregate`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct AggregateEventsResponse {
    /// One entry per period: `period` plus a value (or, grouped, an object of values) per feature.
    pub list: Vec<Map<String, Value>>,
    /// Per feature, `count` and `sum` over the whole window.
    #[serde(default)]
    pub total: Map<String, Value>,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<T: HttpTransport> Legacy<'_, T> {
    /// Attaches a product (`POST /v1/attach`).
    pub async fn attach(&self, params: &AttachParams) -> Result<AttachResponse, Error> {
        self.post("/v1/attach", Retry::Never, params).await
    }

    /// Previews a purchase and gets a checkout URL when needed (`POST /v1/checkout`).
    pub async fn checkout(&self, params: &CheckoutParams) -> Result<CheckoutResponse, Error> {
        self.post("/v1/checkout", Retry::Never, params).await
    }

    /// A page where the customer saves a payment method (`POST /v1/setup_payment`).
    pub async fn setup_payment(
        &self,
        params: &SetupPaymentParams,
    ) -> Result<SetupPaymentResponse, Error> {
        self.post("/v1/setup_payment", Retry::Never, params).await
    }

    /// Cancels a product (`POST /v1/cancel`).
    pub async fn cancel(&self, params: &CancelParams) -> Result<CancelResponse, Error> {
        self.post("/v1/cancel", Retry::Never, params).await
    }

    /// Checks access (`POST /v1/check`); retried like a read unless it sends an event.
    pub async fn check(&self, params: &CheckParams) -> Result<CheckResponse, Error> {
        let retry = if params.send_event == Some(true) {
            Retry::Never
        } else {
            Retry::Safe
        };
        self.post("/v1/check", retry, params).await
    }

    /// Records usage (`POST /v1/track`).
    pub async fn track(&self, params: &TrackParams) -> Result<TrackResponse, Error> {
        self.post("/v1/track", Retry::Never, params).await
    }

    /// Usage over time (`POST /v1/query`).
    pub async fn query(&self, params: &QueryParams) -> Result<QueryResponse, Error> {
        self.post("/v1/query", Retry::Safe, params).await
    }

    /// Creates a customer, or returns the existing one (`POST /v1/customers?expand=...`).
    pub async fn create_customer(&self, params: &CreateCustomerParams) -> Result<Customer, Error> {
        let expand = (!params.expand.is_empty()).then_some(params.expand.as_slice());
        let path = customers_path(expand);
        self.post(path, Retry::Safe, params).await
    }

    /// One customer (`GET /v1/customers/{customer_id}?expand=...`).
    pub async fn get_customer(
        &self,
        customer_id: &str,
        expand: &[&str],
    ) -> Result<Customer, Error> {
        let mut path = format!("/v1/customers/{}", path_segment(customer_id)?);
        push_expand(&mut path, expand);
        self.read(Method::GET, path, Retry::Safe).await
    }

    /// The Stripe billing portal (`POST /v1/customers/{customer_id}/billing_portal`).
    pub async fn billing_portal(
        &self,
        customer_id: &str,
        params: &BillingPortalParams,
    ) -> Result<BillingPortalResponse, Error> {
        self.post(billing_portal_path(customer_id)?, Retry::Never, params)
            .await
    }

    /// Creates one entity (`POST /v1/customers/{customer_id}/entities`).
    pub async fn create_entity(
        &self,
        customer_id: &str,
        params: &CreateEntityParams,
    ) -> Result<Entity, Error> {
        self.post(entities_path(customer_id)?, Retry::Never, params)
            .await
    }

    /// Creates several entities in one call (the same path, with an array body).
    pub async fn create_entities(
        &self,
        customer_id: &str,
        params: &[CreateEntityParams],
    ) -> Result<Value, Error> {
        self.post(entities_path(customer_id)?, Retry::Never, params)
            .await
    }

    /// One entity (`GET /v1/customers/{customer_id}/entities/{entity_id}?expand=...`).
    pub async fn get_entity(
        &self,
        customer_id: &str,
        entity_id: &str,
        expand: &[&str],
    ) -> Result<Entity, Error> {
        let mut path = entity_path(customer_id, entity_id)?;
        push_expand(&mut path, expand);
        self.read(Method::GET, path, Retry::Safe).await
    }

    /// Deletes an entity (`DELETE /v1/customers/{customer_id}/entities/{entity_id}`).
    pub async fn delete_entity(
        &self,
        customer_id: &str,
        entity_id: &str,
    ) -> Result<DeleteResponse, Error> {
        let path = entity_path(customer_id, entity_id)?;
        self.read(Method::DELETE, path, Retry::Never).await
    }

    /// The products, with each one's scenario for `customer_id` when given (`GET /v1/products_beta`).
    pub async fn list_products(&self, customer_id: Option<&str>) -> Result<List<Product>, Error> {
        self.read(Method::GET, products_path(customer_id), Retry::Safe)
            .await
    }

    /// The pricing table's products, for `customer_id` when given (`GET /v1/components/pricing_table`).
    /// Returned as JSON: its shape belongs to Autumn's pricing-table component.
    pub async fn pricing_table(&self, customer_id: Option<&str>) -> Result<Value, Error> {
        self.read(Method::GET, pricing_table_path(customer_id), Retry::Safe)
            .await
    }

    /// Creates (or returns) a customer's referral code (`POST /v1/referrals/code`).
    pub async fn create_referral_code(
        &self,
        params: &CreateReferralCodeParams,
    ) -> Result<ReferralCode, Error> {
        self.post("/v1/referrals/code", Retry::Never, params).await
    }

    /// Redeems a referral code (`POST /v1/referrals/redeem`).
    pub async fn redeem_referral_code(
        &self,
        params: &RedeemReferralCodeParams,
    ) -> Result<RedeemReferralCodeResponse, Error> {
        self.post("/v1/referrals/redeem", Retry::Never, params)
            .await
    }

    /// A page of usage events (`POST /v1/events/list`).
    pub async fn list_events(&self, params: &ListEventsParams) -> Result<EventsPage, Error> {
        self.post("/v1/events/list", Retry::Safe, params).await
    }

    /// Usage summed per period (`POST /v1/events/aggregate`).
    pub async fn aggregate_events(
        &self,
        params: &AggregateEventsParams,
    ) -> Result<AggregateEventsResponse, Error> {
        self.post("/v1/events/aggregate", Retry::Safe, params).await
    }

    async fn post<B, R>(
        &self,
        path: impl Into<Cow<'static, str>>,
        retry: Retry,
        body: &B,
    ) -> Result<R, Error>
    where
        B: Serialize + ?Sized,
        R: serde::de::DeserializeOwned,
    {
        self.client
            .call(operation(Method::POST, path, retry), body, None)
            .await
    }

    async fn read<R: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        retry: Retry,
    ) -> Result<R, Error> {
        let raw = self
            .client
            .execute(operation(method, path, retry), None, None)
            .await?;
        self.client.decode(raw)
    }
}

/// A v1.2 operation.
pub(crate) fn operation(
    method: Method,
    path: impl Into<Cow<'static, str>>,
    retry: Retry,
) -> Operation {
    Operation::versioned(method, path, retry, API_VERSION)
}

/// `/v1/customers`, with `?expand=a,b` when `expand` is given (an empty list still sends `expand=`, as
/// autumn-js does).
pub(crate) fn customers_path(expand: Option<&[String]>) -> String {
    let mut path = String::from("/v1/customers");
    if let Some(items) = expand {
        path.push_str("?expand=");
        push_list(&mut path, items.iter().map(String::as_str));
    }
    path
}

/// `/v1/customers/{customer_id}/billing_portal`.
pub(crate) fn billing_portal_path(customer_id: &str) -> Result<String, Error> {
    Ok(format!(
        "/v1/customers/{}/billing_portal",
        path_segment(customer_id)?
    ))
}

/// `/v1/customers/{customer_id}/entities`.
pub(crate) fn entities_path(customer_id: &str) -> Result<String, Error> {
    Ok(format!(
        "/v1/customers/{}/entities",
        path_segment(customer_id)?
    ))
}

/// `/v1/customers/{customer_id}/entities/{entity_id}`.
pub(crate) fn entity_path(customer_id: &str, entity_id: &str) -> Result<String, Error> {
    Ok(format!(
        "/v1/customers/{}/entities/{}",
        path_segment(customer_id)?,
        path_segment(entity_id)?
    ))
}

/// `/v1/products_beta`, with `?customer_id=` when a customer is given.
pub(crate) fn products_path(customer_id: Option<&str>) -> String {
    with_customer_query("/v1/products_beta", customer_id)
}

/// `/v1/components/pricing_table`, with `?customer_id=` when a customer is given.
pub(crate) fn pricing_table_path(customer_id: Option<&str>) -> String {
    with_customer_query("/v1/components/pricing_table", customer_id)
}

fn with_customer_query(base: &str, customer_id: Option<&str>) -> String {
    let mut path = String::from(base);
    if let Some(id) = customer_id.filter(|id| !id.is_empty()) {
        path.push_str("?customer_id=");
        push_form(&mut path, id);
    }
    path
}

/// Appends `?expand=a,b` (nothing for an empty list).
fn push_expand(path: &mut String, expand: &[&str]) {
    if !expand.is_empty() {
        path.push_str("?expand=");
        push_list(path, expand.iter().copied());
    }
}

/// Appends comma-separated, form-encoded items (commas inside an item are encoded).
pub(crate) fn push_list<'a>(out: &mut String, items: impl Iterator<Item = &'a str>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_form(out, item);
    }
}

/// Appends `value` encoded as `application/x-www-form-urlencoded` does (what `URLSearchParams` writes):
/// `*-._`, digits and ASCII letters as they are, space as `+`, every other byte as `%XX`.
pub(crate) fn push_form(out: &mut String, value: &str) {
    for b in value.bytes() {
        match b {
            b'*' | b'-' | b'.' | b'_' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
}

/// One path segment: the unreserved characters (`A-Z a-z 0-9 - . _ ~`) as they are, every other byte as
/// `%XX`: `/`, `?`, `#`, `%`, and the reserved characters a URL may leave in a segment (`; , = @ : ! $ &
/// ' ( ) * +`), which servers and proxies may read as path parameters (`..;` is `..` to Tomcat and
/// Jetty) or matrix syntax. Empty ids and the dot segments `.` and `..` are refused: servers and proxies
/// would resolve them into another path.
pub(crate) fn path_segment(id: &str) -> Result<String, Error> {
    path_segment_bytes(id.as_bytes())
        .ok_or_else(|| Error::config(format!("{id:?} cannot be used as an id in a path")))
}

/// [`path_segment`] over raw bytes (an id percent-decoded from a URL need not be UTF-8).
pub(crate) fn path_segment_bytes(id: &[u8]) -> Option<String> {
    if id.is_empty() || id == b"." || id == b".." {
        return None;
    }
    let mut out = String::with_capacity(id.len());
    for &b in id {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_escape_their_place() {
        assert_eq!(path_segment("seat_1").unwrap(), "seat_1");
        assert_eq!(path_segment("a/../b").unwrap(), "a%2F..%2Fb");
        assert_eq!(path_segment("x?y#z%").unwrap(), "x%3Fy%23z%25");
        assert_eq!(path_segment("é").unwrap(), "%C3%A9");
        // Reserved characters too: `;` starts path parameters (`..;` is `..` to some servers).
        assert_eq!(path_segment("..;").unwrap(), "..%3B");
        assert_eq!(
            path_segment(";,=@:!$&'()*+").unwrap(),
            "%3B%2C%3D%40%3A%21%24%26%27%28%29%2A%2B"
        );
        assert_eq!(path_segment("a-b.c_d~e").unwrap(), "a-b.c_d~e");
        assert!(path_segment("..").is_err());
        assert!(path_segment(".").is_err());
        assert!(path_segment("").is_err());
    }

    #[test]
    fn query_values_are_form_encoded() {
        assert_eq!(
            products_path(Some("user 1&x=y")),
            "/v1/products_beta?customer_id=user+1%26x%3Dy"
        );
        assert_eq!(products_path(None), "/v1/products_beta");
        assert_eq!(
            customers_path(Some(&["invoices".into(), "a,b".into()])),
            "/v1/customers?expand=invoices,a%2Cb"
        );
        assert_eq!(customers_path(Some(&[])), "/v1/customers?expand=");
        assert_eq!(customers_path(None), "/v1/customers");
    }
}
