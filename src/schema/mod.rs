//! Schema-driven body conversion between the browser's camelCase and the API's snake_case.
//!
//! INTERIM (replaced by the table-driven engine generated from the API spec): converts object keys
//! recursively, leaving user-data maps (`metadata`, `properties`, ...) untouched.
#![allow(dead_code)]

use serde_json::{Map, Value};

/// The upstream operations the browser routes call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    CustomersGetOrCreate,
    EntitiesGet,
    BillingAttach,
    BillingPreviewAttach,
    BillingUpdate,
    BillingPreviewUpdate,
    BillingMultiAttach,
    BillingPreviewMultiAttach,
    BillingSetupPayment,
    BillingOpenCustomerPortal,
    ReferralsCreateCode,
    ReferralsRedeemCode,
    PlansList,
    EventsList,
    EventsAggregate,
}

impl Op {
    /// The API path of the operation.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Op::CustomersGetOrCreate => "/v1/customers.get_or_create",
            Op::EntitiesGet => "/v1/entities.get",
            Op::BillingAttach => "/v1/billing.attach",
            Op::BillingPreviewAttach => "/v1/billing.preview_attach",
            Op::BillingUpdate => "/v1/billing.update",
            Op::BillingPreviewUpdate => "/v1/billing.preview_update",
            Op::BillingMultiAttach => "/v1/billing.multi_attach",
            Op::BillingPreviewMultiAttach => "/v1/billing.preview_multi_attach",
            Op::BillingSetupPayment => "/v1/billing.setup_payment",
            Op::BillingOpenCustomerPortal => "/v1/billing.open_customer_portal",
            Op::ReferralsCreateCode => "/v1/referrals.create_code",
            Op::ReferralsRedeemCode => "/v1/referrals.redeem_code",
            Op::PlansList => "/v1/plans.list",
            Op::EventsList => "/v1/events.list",
            Op::EventsAggregate => "/v1/events.aggregate",
        }
    }
}

/// A field that does not fit its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) path: String,
    pub(crate) message: String,
}

const USER_MAPS: &[&str] = &[
    "metadata",
    "properties",
    "checkoutSessionParams",
    "checkout_session_params",
    "subscriptionParams",
    "subscription_params",
    "filterBy",
    "filter_by",
];

fn snake(k: &str) -> String {
    let mut out = String::with_capacity(k.len() + 4);
    for c in k.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn camel(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    let mut up = false;
    for c in k.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn convert(v: Value, f: fn(&str) -> String) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = if USER_MAPS.contains(&k.as_str()) {
                        v
                    } else {
                        convert(v, f)
                    };
                    (f(&k), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(|v| convert(v, f)).collect()),
        other => other,
    }
}

/// Converts a browser body to the upstream wire format.
pub(crate) fn request_to_upstream(
    _op: Op,
    body: Map<String, Value>,
) -> Result<Map<String, Value>, FieldError> {
    match convert(Value::Object(body), snake) {
        Value::Object(m) => Ok(m),
        _ => unreachable!("objects convert to objects"),
    }
}

/// Converts an upstream answer to what the browser receives.
pub(crate) fn response_to_browser(_op: Op, body: Value) -> Result<Value, FieldError> {
    Ok(convert(body, camel))
}
