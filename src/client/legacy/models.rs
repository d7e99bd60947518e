//! The v1.2 API's parameters and answers (the legacy protocol's wire format, not the 2.x models of
//! [`crate::models`]). Unknown fields of an answer are kept in its `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
