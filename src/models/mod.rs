//! Request and response types of the Autumn REST API (current version, snake_case wire format).
//!
//! # Forward compatibility
//!
//! Every type carries the fields a Rust caller usually needs, typed, and keeps everything else in
//! `extra` (a JSON map flattened into the same object): a request can set any field this crate does not
//! name yet, and a response keeps any field Autumn adds, so a new field never breaks decoding. Optional
//! fields are omitted from the JSON when unset. Maps whose keys are user data (`metadata`, `properties`)
//! are `serde_json::Map`s whose keys are sent and received byte for byte. Enum-like values (statuses,
//! intervals) are plain strings, so a value Autumn adds later decodes too.

mod balances;
mod billing;
mod customers;

pub use balances::*;
pub use billing::*;
pub use customers::*;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Parameters of an operation this crate does not type in detail: a JSON object sent as-is.
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
