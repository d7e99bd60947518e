//! Support code shared by the integration tests.
//!
//! Every test file that needs it declares `mod support;` and uses what it needs; a test binary
//! rarely uses all of it, hence the `dead_code` allowance. The kit:
//!
//! - [`fault`]: the one fault vocabulary, [`Fault`], that every fake Autumn below speaks (a status and
//!   body, a delay, a hang, a reset before or in the middle of the body, a clean close, a body cut
//!   short, a mislabelled or huge body, a 429 with `Retry-After`);
//! - [`fake_autumn`]: a loopback fake of the Autumn REST API (2.x), driven by the OpenAPI spec in
//!   `spec/`: it records and schema-checks every request, answers with schema-valid generated
//!   bodies, and injects any [`Fault`] per path (also over HTTP, for the JS suites);
//! - [`memory_autumn`]: an in-memory transport (no sockets) that records requests and answers each
//!   path with a [`Fault`] or a default JSON body;
//! - [`identify`]: the one identify hook of the tests, reading the caller from request headers
//!   (`x-customer-id`, `x-customer-name`, `x-customer-email`, `x-identify-fails`);
//! - [`json`]: [`numbers_as_f64`], for JSON comparisons that do not care whether a number is `7`
//!   or `7.0`.
//!
//! Outside this module, for test files that cannot take the whole kit (it needs the `__dev`
//! feature):
//!
//! - `tests/fault_server/mod.rs` (`mod fault_server;`): a fake Autumn on raw TCP that speaks the
//!   same [`Fault`] vocabulary (it includes `fault.rs`), for the faults an HTTP library will not
//!   commit, with a per-request policy or a sequence of faults;
//! - `identify.rs` or `json.rs` alone, e.g. `#[path = "support/identify.rs"] mod identify;`;
//! - `quickstart.rs`, with `#[path = "support/quickstart.rs"]`: runs the quickstart example, Node
//!   scripts and `npm ci` for the differential suites;
//! - `operations.rs`: the generated list of API operations, `include!`d by `tests/all_operations.rs`.

#![allow(dead_code, unreachable_pub)]

pub mod fake_autumn;
pub mod fault;
pub mod identify;
pub mod json;
pub mod memory_autumn;

#[allow(unused_imports)]
pub use fake_autumn::{FakeAutumn, Recorded};
#[allow(unused_imports)]
pub use fault::Fault;
#[allow(unused_imports)]
pub use json::numbers_as_f64;
