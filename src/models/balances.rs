use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `balances.check`: may this customer use this feature?
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckParams {
    /// Your id of the customer.
    pub customer_id: String,
    /// The feature to check.
    pub feature_id: String,
    /// Check the balance of one entity of the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// How much is about to be used (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_balance: Option<f64>,
    /// Also record the usage when allowed (check and track in one call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_event: Option<bool>,
    /// User-defined properties; keys are kept byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CheckParams {
    /// Checks `feature_id` for `customer_id`.
    pub fn new(customer_id: impl Into<String>, feature_id: impl Into<String>) -> Self {
        CheckParams {
            customer_id: customer_id.into(),
            feature_id: feature_id.into(),
            ..Default::default()
        }
    }

    /// Checks one entity's balance.
    pub fn entity_id(mut self, entity_id: impl Into<String>) -> Self {
        self.entity_id = Some(entity_id.into());
        self
    }

    /// How much is about to be used.
    pub fn required_balance(mut self, amount: f64) -> Self {
        self.required_balance = Some(amount);
        self
    }
}

/// The answer of `balances.check`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CheckResponse {
    /// Whether the customer may use the feature.
    pub allowed: bool,
    /// The customer checked.
    pub customer_id: String,
    /// The entity checked, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// The amount that was required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_balance: Option<f64>,
    /// The feature's balance (`null` for boolean features).
    #[serde(default)]
    pub balance: Option<Value>,
    /// The flag, for boolean features.
    #[serde(default)]
    pub flag: Option<Value>,
    /// Everything else Autumn sent (e.g. `preview`, `balances`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `balances.track`: record usage of a feature.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct TrackParams {
    /// Your id of the customer.
    pub customer_id: String,
    /// The feature used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_id: Option<String>,
    /// The event name, when usage is tracked by event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// How much was used (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The entity that used it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// User-defined properties; keys are kept byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    /// The idempotency key sent as the `Idempotency-Key` header (not in the body). When unset the client
    /// generates one before the first attempt and reuses it on retries.
    #[serde(skip)]
    pub idempotency_key: Option<String>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TrackParams {
    /// Records `value` units of `feature_id` for `customer_id`.
    pub fn new(customer_id: impl Into<String>, feature_id: impl Into<String>, value: f64) -> Self {
        TrackParams {
            customer_id: customer_id.into(),
            feature_id: Some(feature_id.into()),
            value: Some(value),
            ..Default::default()
        }
    }

    /// Attributes the usage to an entity.
    pub fn entity_id(mut self, entity_id: impl Into<String>) -> Self {
        self.entity_id = Some(entity_id.into());
        self
    }

    /// Sets your own idempotency key (e.g. the id of the message that was sent).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// The answer of `balances.track`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrackResponse {
    /// The customer.
    pub customer_id: String,
    /// The amount recorded.
    pub value: f64,
    /// The balance after the usage.
    #[serde(default)]
    pub balance: Option<Value>,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
