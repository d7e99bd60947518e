//! Support code shared by the integration tests.
//!
//! Every test file that needs it declares `mod support;` and uses what it needs; a test binary
//! rarely uses all of it, hence the `dead_code` allowance.
//!
//! - [`fake_autumn`]: a loopback fake of the Autumn REST API (2.x), driven by the OpenAPI spec in
//!   `spec/`: it records and schema-checks every request, answers with schema-valid
//!   generated bodies, and injects faults on demand.

#![allow(dead_code, unreachable_pub)]

pub mod fake_autumn;
pub mod identify;
pub mod memory_autumn;

#[allow(unused_imports)]
pub use fake_autumn::{FakeAutumn, Fault, Recorded};

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
