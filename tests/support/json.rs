//! JSON helpers for comparisons.
//!
//! Test files that do not use the whole support kit include this file alone with
//! `#[path = "support/json.rs"] mod json;`.

#![allow(dead_code)]

/// `value` with every number as an `f64`, so `7` and `7.0` compare equal.
pub fn numbers_as_f64(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => Value::from(n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_f64).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, numbers_as_f64(v)))
                .collect(),
        ),
        other => other,
    }
}
