//! Support code shared by the integration tests.
//!
//! Every test file that needs it declares `mod support;` and uses what it needs; a test binary
//! rarely uses all of it, hence the `dead_code` allowance.
//!
//! - [`fake_autumn`]: a loopback fake of the Autumn REST API (2.x), driven by the OpenAPI spec in
//!   `../shared/spec`: it records and schema-checks every request, answers with schema-valid
//!   generated bodies, and injects faults on demand.

#![allow(dead_code, unreachable_pub)]

pub mod fake_autumn;

#[allow(unused_imports)]
pub use fake_autumn::{FakeAutumn, Fault, Recorded};
