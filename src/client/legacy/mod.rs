//! The v1.2 Autumn API: the calls autumn-js 0.x's backend and the Python SDK (autumn-py 3.x) make.
//!
//! Every call here sends `x-api-version: 1.2` whatever the client's configured version, so one
//! [`Client`](crate::Client) speaks both APIs. The wire format is the v1.2 one: snake_case JSON bodies, REST paths such as
//! `POST /v1/attach` or `GET /v1/customers/{customer_id}/entities/{entity_id}`. Ids placed in a path are
//! percent-encoded, so an id can never reach another path or another query parameter.
//!
//! ```no_run
//! use autumn_tower::client::legacy::{AttachParams, CheckParams};
//!
//! # async fn demo() -> Result<(), autumn_tower::Error> {
//! let client = autumn_tower::Client::from_env()?;
//! let check = client.legacy().check(&CheckParams::feature("user_123", "messages")).await?;
//! if !check.allowed {
//!     let attach = client.legacy().attach(&AttachParams::product("user_123", "pro")).await?;
//!     if let Some(url) = attach.checkout_url {
//!         println!("pay here: {url}");
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Types follow the crate's conventions (see [`models`](crate::models)): the fields a caller usually needs
//! are typed, everything else travels in `extra`, optional fields are omitted when unset, and user-data
//! maps (`properties`, `metadata`, `checkout_session_params`) keep their keys byte for byte.
//!
//! Retries follow the [client's rules](super#retries-never-double-bill): reads (`check` without
//! `send_event`, `query`, customer, entity, product and event reads, and the customer create, which
//! returns the existing customer) may be repeated; writes (`attach`, `checkout`, `setup_payment`,
//! `cancel`, `track`, `billing_portal`, entity create and delete, referrals) only when the request was
//! never sent.

use std::borrow::Cow;
use std::fmt::Write as _;

use http::Method;
use serde::Serialize;
use serde_json::Value;

use super::{resource, Operation, Retry};
use crate::error::Error;
use crate::models::List;
use crate::transport::HttpTransport;

mod models;
pub use models::*;

/// The API version every call of this module sends in `x-api-version`.
pub const API_VERSION: &str = "1.2";

resource! {
    /// The v1.2 API calls. Get one with [`Client::legacy`](crate::Client::legacy).
    Legacy
}

impl<T: HttpTransport> Legacy<'_, T> {
    /// Attaches a product (`POST /v1/attach`).
    pub async fn attach(&self, params: &AttachParams) -> Result<AttachResponse, Error> {
        self.post("/v1/attach", Retry::Never, params).await
    }

    /// Previews a purchase and gets a checkout URL when needed (`POST /v1/checkout`).
    pub async fn checkout(&self, params: &CheckoutParams) -> Result<CheckoutResponse, Error> {
        self.post("/v1/checkout", Retry::Never, params).await
    }

    /// A page where the customer saves a payment method (`POST /v1/setup_payment`).
    pub async fn setup_payment(
        &self,
        params: &SetupPaymentParams,
    ) -> Result<SetupPaymentResponse, Error> {
        self.post("/v1/setup_payment", Retry::Never, params).await
    }

    /// Cancels a product (`POST /v1/cancel`).
    pub async fn cancel(&self, params: &CancelParams) -> Result<CancelResponse, Error> {
        self.post("/v1/cancel", Retry::Never, params).await
    }

    /// Checks access (`POST /v1/check`); retried like a read unless it sends an event.
    pub async fn check(&self, params: &CheckParams) -> Result<CheckResponse, Error> {
        let retry = if params.send_event == Some(true) {
            Retry::Never
        } else {
            Retry::Safe
        };
        self.post("/v1/check", retry, params).await
    }

    /// Records usage (`POST /v1/track`).
    pub async fn track(&self, params: &TrackParams) -> Result<TrackResponse, Error> {
        self.post("/v1/track", Retry::Never, params).await
    }

    /// Usage over time (`POST /v1/query`).
    pub async fn query(&self, params: &QueryParams) -> Result<QueryResponse, Error> {
        self.post("/v1/query", Retry::Safe, params).await
    }

    /// Creates a customer, or returns the existing one (`POST /v1/customers?expand=...`).
    pub async fn create_customer(&self, params: &CreateCustomerParams) -> Result<Customer, Error> {
        let expand = (!params.expand.is_empty()).then_some(params.expand.as_slice());
        let path = customers_path(expand);
        self.post(path, Retry::Safe, params).await
    }

    /// One customer (`GET /v1/customers/{customer_id}?expand=...`).
    pub async fn get_customer(
        &self,
        customer_id: &str,
        expand: &[&str],
    ) -> Result<Customer, Error> {
        let mut path = format!("/v1/customers/{}", path_segment(customer_id)?);
        push_expand(&mut path, expand);
        self.read(Method::GET, path, Retry::Safe).await
    }

    /// The Stripe billing portal (`POST /v1/customers/{customer_id}/billing_portal`).
    pub async fn billing_portal(
        &self,
        customer_id: &str,
        params: &BillingPortalParams,
    ) -> Result<BillingPortalResponse, Error> {
        self.post(billing_portal_path(customer_id)?, Retry::Never, params)
            .await
    }

    /// Creates one entity (`POST /v1/customers/{customer_id}/entities`).
    pub async fn create_entity(
        &self,
        customer_id: &str,
        params: &CreateEntityParams,
    ) -> Result<Entity, Error> {
        self.post(entities_path(customer_id)?, Retry::Never, params)
            .await
    }

    /// Creates several entities in one call (the same path, with an array body).
    pub async fn create_entities(
        &self,
        customer_id: &str,
        params: &[CreateEntityParams],
    ) -> Result<Value, Error> {
        self.post(entities_path(customer_id)?, Retry::Never, params)
            .await
    }

    /// One entity (`GET /v1/customers/{customer_id}/entities/{entity_id}?expand=...`).
    pub async fn get_entity(
        &self,
        customer_id: &str,
        entity_id: &str,
        expand: &[&str],
    ) -> Result<Entity, Error> {
        let mut path = entity_path(customer_id, entity_id)?;
        push_expand(&mut path, expand);
        self.read(Method::GET, path, Retry::Safe).await
    }

    /// Deletes an entity (`DELETE /v1/customers/{customer_id}/entities/{entity_id}`).
    pub async fn delete_entity(
        &self,
        customer_id: &str,
        entity_id: &str,
    ) -> Result<DeleteResponse, Error> {
        let path = entity_path(customer_id, entity_id)?;
        self.read(Method::DELETE, path, Retry::Never).await
    }

    /// The products, with each one's scenario for `customer_id` when given (`GET /v1/products_beta`).
    pub async fn list_products(&self, customer_id: Option<&str>) -> Result<List<Product>, Error> {
        self.read(Method::GET, products_path(customer_id), Retry::Safe)
            .await
    }

    /// The pricing table's products, for `customer_id` when given (`GET /v1/components/pricing_table`).
    /// Returned as JSON: its shape belongs to Autumn's pricing-table component.
    pub async fn pricing_table(&self, customer_id: Option<&str>) -> Result<Value, Error> {
        self.read(Method::GET, pricing_table_path(customer_id), Retry::Safe)
            .await
    }

    /// Creates (or returns) a customer's referral code (`POST /v1/referrals/code`).
    pub async fn create_referral_code(
        &self,
        params: &CreateReferralCodeParams,
    ) -> Result<ReferralCode, Error> {
        self.post("/v1/referrals/code", Retry::Never, params).await
    }

    /// Redeems a referral code (`POST /v1/referrals/redeem`).
    pub async fn redeem_referral_code(
        &self,
        params: &RedeemReferralCodeParams,
    ) -> Result<RedeemReferralCodeResponse, Error> {
        self.post("/v1/referrals/redeem", Retry::Never, params)
            .await
    }

    /// A page of usage events (`POST /v1/events/list`).
    pub async fn list_events(&self, params: &ListEventsParams) -> Result<EventsPage, Error> {
        self.post("/v1/events/list", Retry::Safe, params).await
    }

    /// Usage summed per period (`POST /v1/events/aggregate`).
    pub async fn aggregate_events(
        &self,
        params: &AggregateEventsParams,
    ) -> Result<AggregateEventsResponse, Error> {
        self.post("/v1/events/aggregate", Retry::Safe, params).await
    }

    async fn post<B, R>(
        &self,
        path: impl Into<Cow<'static, str>>,
        retry: Retry,
        body: &B,
    ) -> Result<R, Error>
    where
        B: Serialize + ?Sized,
        R: serde::de::DeserializeOwned,
    {
        self.client
            .call(operation(Method::POST, path, retry), body, None)
            .await
    }

    async fn read<R: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        retry: Retry,
    ) -> Result<R, Error> {
        let raw = self
            .client
            .execute(operation(method, path, retry), None, None)
            .await?;
        self.client.decode(raw)
    }
}

/// A v1.2 operation.
pub(crate) fn operation(
    method: Method,
    path: impl Into<Cow<'static, str>>,
    retry: Retry,
) -> Operation {
    Operation::versioned(method, path, retry, API_VERSION)
}

/// `/v1/customers`, with `?expand=a,b` when `expand` is given (an empty list still sends `expand=`, as
/// autumn-js does).
pub(crate) fn customers_path(expand: Option<&[String]>) -> String {
    let mut path = String::from("/v1/customers");
    if let Some(items) = expand {
        path.push_str("?expand=");
        push_list(&mut path, items.iter().map(String::as_str));
    }
    path
}

/// `/v1/customers/{customer_id}/billing_portal`.
pub(crate) fn billing_portal_path(customer_id: &str) -> Result<String, Error> {
    Ok(format!(
        "/v1/customers/{}/billing_portal",
        path_segment(customer_id)?
    ))
}

/// `/v1/customers/{customer_id}/entities`.
pub(crate) fn entities_path(customer_id: &str) -> Result<String, Error> {
    Ok(format!(
        "/v1/customers/{}/entities",
        path_segment(customer_id)?
    ))
}

/// `/v1/customers/{customer_id}/entities/{entity_id}`.
pub(crate) fn entity_path(customer_id: &str, entity_id: &str) -> Result<String, Error> {
    Ok(format!(
        "/v1/customers/{}/entities/{}",
        path_segment(customer_id)?,
        path_segment(entity_id)?
    ))
}

/// `/v1/products_beta`, with `?customer_id=` when a customer is given.
pub(crate) fn products_path(customer_id: Option<&str>) -> String {
    with_customer_query("/v1/products_beta", customer_id)
}

/// `/v1/components/pricing_table`, with `?customer_id=` when a customer is given.
pub(crate) fn pricing_table_path(customer_id: Option<&str>) -> String {
    with_customer_query("/v1/components/pricing_table", customer_id)
}

fn with_customer_query(base: &str, customer_id: Option<&str>) -> String {
    let mut path = String::from(base);
    if let Some(id) = customer_id.filter(|id| !id.is_empty()) {
        path.push_str("?customer_id=");
        push_form(&mut path, id);
    }
    path
}

/// Appends `?expand=a,b` (nothing for an empty list).
fn push_expand(path: &mut String, expand: &[&str]) {
    if !expand.is_empty() {
        path.push_str("?expand=");
        push_list(path, expand.iter().copied());
    }
}

/// Appends comma-separated, form-encoded items (commas inside an item are encoded).
pub(crate) fn push_list<'a>(out: &mut String, items: impl Iterator<Item = &'a str>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_form(out, item);
    }
}

/// Appends `value` encoded as `application/x-www-form-urlencoded` does (what `URLSearchParams` writes):
/// `*-._`, digits and ASCII letters as they are, space as `+`, every other byte as `%XX`.
pub(crate) fn push_form(out: &mut String, value: &str) {
    for b in value.bytes() {
        match b {
            b'*' | b'-' | b'.' | b'_' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
}

/// One path segment: the unreserved characters (`A-Z a-z 0-9 - . _ ~`) as they are, every other byte as
/// `%XX`: `/`, `?`, `#`, `%`, and the reserved characters a URL may leave in a segment (`; , = @ : ! $ &
/// ' ( ) * +`), which servers and proxies may read as path parameters (`..;` is `..` to Tomcat and
/// Jetty) or matrix syntax. Empty ids and the dot segments `.` and `..` are refused: servers and proxies
/// would resolve them into another path.
pub(crate) fn path_segment(id: &str) -> Result<String, Error> {
    path_segment_bytes(id.as_bytes())
        .ok_or_else(|| Error::config(format!("{id:?} cannot be used as an id in a path")))
}

/// [`path_segment`] over raw bytes (an id percent-decoded from a URL need not be UTF-8).
pub(crate) fn path_segment_bytes(id: &[u8]) -> Option<String> {
    if id.is_empty() || id == b"." || id == b".." {
        return None;
    }
    let mut out = String::with_capacity(id.len());
    for &b in id {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_escape_their_place() {
        assert_eq!(path_segment("seat_1").unwrap(), "seat_1");
        assert_eq!(path_segment("a/../b").unwrap(), "a%2F..%2Fb");
        assert_eq!(path_segment("x?y#z%").unwrap(), "x%3Fy%23z%25");
        assert_eq!(path_segment("é").unwrap(), "%C3%A9");
        // Reserved characters too: `;` starts path parameters (`..;` is `..` to some servers).
        assert_eq!(path_segment("..;").unwrap(), "..%3B");
        assert_eq!(
            path_segment(";,=@:!$&'()*+").unwrap(),
            "%3B%2C%3D%40%3A%21%24%26%27%28%29%2A%2B"
        );
        assert_eq!(path_segment("a-b.c_d~e").unwrap(), "a-b.c_d~e");
        assert!(path_segment("..").is_err());
        assert!(path_segment(".").is_err());
        assert!(path_segment("").is_err());
    }

    #[test]
    fn query_values_are_form_encoded() {
        assert_eq!(
            products_path(Some("user 1&x=y")),
            "/v1/products_beta?customer_id=user+1%26x%3Dy"
        );
        assert_eq!(products_path(None), "/v1/products_beta");
        assert_eq!(
            customers_path(Some(&["invoices".into(), "a,b".into()])),
            "/v1/customers?expand=invoices,a%2Cb"
        );
        assert_eq!(customers_path(Some(&[])), "/v1/customers?expand=");
        assert_eq!(customers_path(None), "/v1/customers");
    }
}
