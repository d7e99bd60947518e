use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `customers.get_or_create`: the customer, created on first sight.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct GetOrCreateCustomerParams {
    /// Your id of the customer.
    pub customer_id: String,
    /// The customer's name (used when created).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The customer's email (used when created).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Your metadata; keys are kept byte for byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Related objects to include (e.g. `"balances.feature"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expand: Option<Vec<String>>,
    /// Any other field of the API, sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl GetOrCreateCustomerParams {
    /// The customer with id `customer_id`.
    pub fn new(customer_id: impl Into<String>) -> Self {
        GetOrCreateCustomerParams {
            customer_id: customer_id.into(),
            ..Default::default()
        }
    }

    /// Sets the name used at creation.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the email used at creation.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }
}

/// A customer, with their subscriptions, balances and flags.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Customer {
    /// Your id of the customer.
    #[serde(default)]
    pub id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Subscriptions (plans attached).
    #[serde(default)]
    pub subscriptions: Vec<Value>,
    /// Balances per feature id (keys are your feature ids, kept byte for byte).
    #[serde(default)]
    pub balances: Map<String, Value>,
    /// Boolean features per feature id.
    #[serde(default)]
    pub flags: Map<String, Value>,
    /// Your metadata.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
