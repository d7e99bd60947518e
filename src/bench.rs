//! Not part of the API and outside semver (the internal `__bench` feature): the hooks of the load
//! ablation ladder (`benches/load/ladder.sh`, `examples/ladder.rs`), which measures the stack rung by rung.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::StatusCode;

use crate::client::{Client, Operation, Retry};
use crate::error::Error;
use crate::transport::HttpTransport;

static COPY_CONVERSION: AtomicBool = AtomicBool::new(false);

/// From now on, every service in the process answers a 2xx upstream body with a plain copy of its bytes
/// instead of converting it (the ladder's "conversion that only copies" rung).
pub fn copy_conversion() {
    COPY_CONVERSION.store(true, Ordering::Relaxed);
}

pub(crate) fn is_copy_conversion() -> bool {
    COPY_CONVERSION.load(Ordering::Relaxed)
}

/// One upstream `POST path` through the client (deadline, retry budget, transport, collected body),
/// with no conversion on either side.
pub async fn post<T: HttpTransport>(
    client: &Client<T>,
    path: &'static str,
    body: Bytes,
) -> Result<(StatusCode, Bytes), Error> {
    let raw = client
        .execute(Operation::post(path, Retry::Safe), Some(body), None)
        .await?;
    Ok((raw.status, raw.body))
}

/// Converts `body`, an upstream answer to `POST /v1/customers.get_or_create`, to the browser's JSON
/// as the service does for a 2xx answer; the length of the output, or `None` when it would be an
/// error. The ladder's `convert` mode runs it alone under callgrind.
pub fn convert_customer(body: &[u8]) -> Option<usize> {
    crate::schema::response_bytes_to_browser(crate::schema::Op::CustomersGetOrCreate, body)
        .ok()
        .map(|out| out.len())
}
