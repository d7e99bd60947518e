//! Request and response types of the Autumn REST API (current version, snake_case wire format).
//!
//! Every operation of the [`Client`](crate::Client) takes a `...Params` struct and answers a typed
//! struct. Objects that several operations share are one type each: a [`Customer`] is the same
//! whether `customers.get`, `customers.list` or `customers.update` returned it, and so are [`Plan`],
//! [`Feature`], [`Balance`], [`Flag`], [`Subscription`], [`Entity`], [`Event`], [`BillingControls`],
//! [`PlanCustomization`], ...
//!
//! The structs are generated from the API spec by `tools/gen_models.py` (field lists, required fields,
//! the field docs); this module adds the hand-written pieces.
//!
//! # Building requests
//!
//! A params struct has `new(..)` taking its required fields, and one chained setter per optional
//! field; every struct also implements `Default`, so struct-update syntax works too:
//!
//! ```
//! use autumn_tower::models::{AttachParams, FeatureQuantity, PlanCustomization};
//!
//! let params = AttachParams::new("user_123", "pro")
//!     .success_url("https://example.com/billing")
//!     .feature_quantities(vec![FeatureQuantity::new("seats").quantity(5.0)]);
//! let same = AttachParams {
//!     success_url: Some("https://example.com/billing".into()),
//!     feature_quantities: Some(vec![FeatureQuantity {
//!         feature_id: "seats".into(),
//!         quantity: Some(5.0),
//!         ..Default::default()
//!     }]),
//!     ..AttachParams::new("user_123", "pro")
//! };
//! assert_eq!(params, same);
//! # let _ = PlanCustomization::default();
//! ```
//!
//! Optional fields are `Option`s and are left out of the JSON when `None` (Autumn then applies its
//! default, which the field's docs mention when the spec gives one). To send an explicit `null` (e.g.
//! `customize.price: null` removes a plan's base price), leave the field `None` and put the `null` in
//! the struct's `extra` map.
//!
//! # Forward compatibility
//!
//! - **Unknown fields are kept.** Every struct has `extra`, a JSON map flattened into the same object:
//!   an answer keeps any field Autumn adds after this crate was written (and serialising the struct
//!   writes it back), and a request can send any field this crate does not name yet.
//! - **Enum-like values are `String`s.** Statuses, intervals, environments, scenarios, ... are plain
//!   strings whose known values are listed in each field's docs, so a value Autumn adds later decodes
//!   like any other instead of failing the whole answer. Compare with the documented literals
//!   (`sub.status == "active"`).
//! - **Required means required.** A field the spec marks required and non-nullable is a plain value
//!   (`Customer::created_at: f64`), so an answer without it is a decode error rather than a silent
//!   zero; lists and maps default to empty when absent. Nullable or optional fields are `Option`s.
//! - **User-keyed maps keep their keys.** `metadata`, `properties`, filters, and per-feature maps
//!   (`Customer::balances`, `Customer::flags`, `CheckResponse::balances`, ...) are `BTreeMap`s (or
//!   `serde_json::Map`s for free-form values) whose keys are your ids and are sent and received byte
//!   for byte: no field of this module is renamed (the Rust names are the wire names).
//! - Numbers the spec calls `number` are `f64` (timestamps are milliseconds since the epoch); `integer`
//!   is `i64`. Two small unions have their own types: [`OneOrMany`] (a feature id or a list of them)
//!   and [`TierLimit`] (where a price tier ends: a number of units or `"inf"`).

mod generated;

pub use generated::*;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object sent as-is: the parameters of a call this crate does not type (the v1.2 calls of
/// [`client::legacy`](crate::client::legacy) take some), or a quick way to build one.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Params(pub Map<String, Value>);

impl Params {
    /// Empty parameters.
    pub fn new() -> Self {
        Params::default()
    }

    /// Sets one field (snake_case, as the API spells it).
    pub fn set(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.0.insert(key.into(), value.into());
        self
    }
}

/// A list answer: `list` plus whatever else Autumn sends (paging fields).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct List<T> {
    /// The items.
    pub list: Vec<T>,
    /// Other fields (e.g. `has_more`, `next_cursor`, `total`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One string or a list of them (e.g. `feature_id` of `events.list` and `events.aggregate`). Serialises
/// as a bare string or as an array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl Default for OneOrMany {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl From<&str> for OneOrMany {
    fn from(s: &str) -> Self {
        OneOrMany::One(s.to_owned())
    }
}

impl From<String> for OneOrMany {
    fn from(s: String) -> Self {
        OneOrMany::One(s)
    }
}

impl From<Vec<String>> for OneOrMany {
    fn from(v: Vec<String>) -> Self {
        OneOrMany::Many(v)
    }
}

impl From<Vec<&str>> for OneOrMany {
    fn from(v: Vec<&str>) -> Self {
        OneOrMany::Many(v.into_iter().map(str::to_owned).collect())
    }
}

impl<const N: usize> From<[&str; N]> for OneOrMany {
    fn from(v: [&str; N]) -> Self {
        OneOrMany::Many(v.iter().map(|s| (*s).to_owned()).collect())
    }
}

/// Where a price (or credit) tier ends: a number of units, or a word, in practice `"inf"` for the last,
/// open-ended tier (any other string Autumn may send is kept as it is).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TierLimit {
    /// The tier ends at this many units.
    Units(f64),
    /// A named bound: `"inf"` (see [`TierLimit::inf`]).
    Named(String),
}

impl TierLimit {
    /// The open-ended bound of the last tier, `"inf"`.
    pub fn inf() -> Self {
        TierLimit::Named("inf".to_owned())
    }

    /// Whether this is the open-ended bound `"inf"`.
    pub fn is_inf(&self) -> bool {
        matches!(self, TierLimit::Named(s) if s == "inf")
    }
}

impl Default for TierLimit {
    fn default() -> Self {
        TierLimit::inf()
    }
}

impl From<f64> for TierLimit {
    fn from(units: f64) -> Self {
        TierLimit::Units(units)
    }
}

impl From<&str> for TierLimit {
    fn from(s: &str) -> Self {
        TierLimit::Named(s.to_owned())
    }
}

/// Finds the fields that landed in an `extra` map, at any depth of a model: what Autumn sent that this
/// version of the crate does not know (to log API drift, say), or what a request adds by hand.
///
/// ```
/// use autumn_tower::models::{CheckResponse, UnknownFields};
///
/// let answer: CheckResponse = serde_json::from_str(
///     r#"{"allowed": true, "customer_id": "c", "balance": null, "flag": null, "quota": 3}"#,
/// )?;
/// assert_eq!(answer.unknown_fields(), [".quota"]);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub trait UnknownFields {
    /// The JSON path (`.subscriptions[0].new_field`, `.balances["messages"].new_field`) of every
    /// field kept in an `extra` map.
    fn unknown_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.visit_unknown(&mut String::new(), &mut out);
        out
    }

    /// Appends the paths of the unknown fields under `path` to `out` (what
    /// [`unknown_fields`](UnknownFields::unknown_fields) is made of).
    fn visit_unknown(&self, path: &mut String, out: &mut Vec<String>);
}

impl<T: UnknownFields> UnknownFields for Option<T> {
    fn visit_unknown(&self, path: &mut String, out: &mut Vec<String>) {
        if let Some(v) = self {
            v.visit_unknown(path, out);
        }
    }
}

impl<T: UnknownFields> UnknownFields for Vec<T> {
    fn visit_unknown(&self, path: &mut String, out: &mut Vec<String>) {
        let len = path.len();
        for (i, v) in self.iter().enumerate() {
            path.push_str(&format!("[{i}]"));
            v.visit_unknown(path, out);
            path.truncate(len);
        }
    }
}

impl<T: UnknownFields> UnknownFields for std::collections::BTreeMap<String, T> {
    fn visit_unknown(&self, path: &mut String, out: &mut Vec<String>) {
        let len = path.len();
        for (k, v) in self {
            path.push_str(&format!("[{k:?}]"));
            v.visit_unknown(path, out);
            path.truncate(len);
        }
    }
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

    /// Records usage of every feature listening to `event_name` (instead of one feature).
    pub fn event(
        customer_id: impl Into<String>,
        event_name: impl Into<String>,
        value: f64,
    ) -> Self {
        TrackParams {
            customer_id: customer_id.into(),
            event_name: Some(event_name.into()),
            value: Some(value),
            ..Default::default()
        }
    }

    /// Sets your own idempotency key (e.g. the id of the message that was sent).
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn unions_take_both_shapes() {
        let one = AggregateEventsParams::new("messages");
        assert_eq!(
            serde_json::to_value(&one).unwrap()["feature_id"],
            "messages"
        );
        let many = AggregateEventsParams::new(["messages", "tokens"]);
        assert_eq!(
            serde_json::to_value(&many).unwrap()["feature_id"],
            json!(["messages", "tokens"])
        );
        let tiers: Vec<PriceTier> =
            serde_json::from_value(json!([{"to": 100, "amount": 1}, {"to": "inf", "amount": 0.5}]))
                .unwrap();
        assert_eq!(tiers[0].to, TierLimit::Units(100.0));
        assert!(tiers[1].to.is_inf() && !tiers[0].to.is_inf());
        assert_eq!(
            serde_json::to_value(PriceTier::new(TierLimit::inf())).unwrap(),
            json!({"to": "inf"})
        );
    }

    #[test]
    fn unset_fields_are_left_out_and_extra_goes_inline() {
        let mut p = CheckParams::new("c", "f");
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"customer_id": "c", "feature_id": "f"})
        );
        // An explicit null travels through `extra`.
        p.extra.insert("entity_id".into(), Value::Null);
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"customer_id":"c","feature_id":"f","entity_id":null}"#
        );
    }

    #[test]
    fn the_idempotency_key_is_never_in_the_body() {
        let t = TrackParams::new("c", "f", 2.0).idempotency_key("k1");
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            json!({"customer_id": "c", "feature_id": "f", "value": 2.0})
        );
        let back: TrackParams = serde_json::from_value(json!({"customer_id": "c"})).unwrap();
        assert_eq!(back.idempotency_key, None);
    }

    #[test]
    fn required_fields_are_required_and_user_keys_are_untouched() {
        // `Balance` requires `granted`, `remaining`, ... (the spec's required, non-nullable fields).
        let missing = serde_json::from_value::<Balance>(json!({"feature_id": "f"}));
        assert!(missing.unwrap_err().to_string().contains("granted"));
        let answer = json!({"list": [{"period": 1, "values": {"fooBar": 2, "snake_key": 3},
                                      "grouped_values": {"fooBar": {"gpt-4o": 1}}}],
                            "total": {"fooBar": {"count": 1, "sum": 2}}});
        let agg: EventAggregate = serde_json::from_value(answer).unwrap();
        assert_eq!(agg.list[0].values["fooBar"], 2.0);
        assert_eq!(
            agg.list[0].grouped_values.as_ref().unwrap()["fooBar"]["gpt-4o"],
            1.0
        );
        assert_eq!(agg.total["fooBar"].sum, 2.0);
        assert!(agg.list[0].extra.is_empty() && agg.extra.is_empty());
    }
}
