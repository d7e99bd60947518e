use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `billing.attach` (and `billing.preview_attach`): subscribe a customer to a plan.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct AttachParams {
    /// Your id of the customer.
    pub customer_id: String,
    /// The plan to attach.
    pub plan_id: String,
    /// Attach to one entity of the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// Where Stripe Checkout sends the customer after paying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    /// `"if_required"` (default), `"always"` or `"never"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_mode: Option<String>,
    /// Any other field of the API (feature quantities, customize, ...), sent as-is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AttachParams {
    /// Attaches `plan_id` to `customer_id`.
    pub fn new(customer_id: impl Into<String>, plan_id: impl Into<String>) -> Self {
        AttachParams {
            customer_id: customer_id.into(),
            plan_id: plan_id.into(),
            ..Default::default()
        }
    }
}

/// The answer of `billing.attach` and the other billing writes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BillingResponse {
    /// The customer.
    #[serde(default)]
    pub customer_id: Option<String>,
    /// Where to send the customer to pay, when payment is needed.
    #[serde(default)]
    pub payment_url: Option<String>,
    /// Everything else Autumn sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
