//! The identify hook: your app says who is calling.
//!
//! For every browser request the [`AutumnService`](crate::AutumnService) asks your [`Identify`] who the
//! logged-in customer is. It gets the request's [`Parts`] (method, URI, headers, extensions), so it can read a
//! session cookie, verify a bearer token, or pick up the user an auth middleware put into the extensions.
//! The customer id it returns is the only one ever sent to Autumn: ids in the request body or URL are
//! dropped.
//!
//! Any closure `Fn(&Parts) -> impl Future<Output = Result<Option<Identity>, E>>` is an `Identify`. Read what
//! you need from `parts` before the `async` block, since the future cannot borrow them:
//!
//! ```
//! use autumn_tower::{Identity, identify::Identify};
//! use http::request::Parts;
//!
//! #[derive(Clone)]
//! struct User { id: String, email: String }
//!
//! let identify = |parts: &Parts| {
//!     // An auth middleware stored the user in the extensions.
//!     let user = parts.extensions.get::<User>().cloned();
//!     async move {
//!         Ok::<_, std::convert::Infallible>(
//!             user.map(|u| Identity::new(u.id).with_email(u.email)),
//!         )
//!     }
//! };
//! # fn assert_identify<I: Identify>(_: &I) {}
//! # assert_identify(&identify);
//! ```
//!
//! `Ok(None)` means an anonymous caller: routes that need a customer answer 401 without calling Autumn.
//! An `Err` becomes a 500 JSON error (logged with its message, never shown to the browser).

use std::future::Future;

use http::request::Parts;

use crate::transport::BoxError;

/// Who is calling: the Autumn customer id and the details used when the customer is created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// Your id for the customer (the id Autumn knows them by). An empty id counts as anonymous.
    pub customer_id: String,
    /// Name and email, sent when the customer is created by `getOrCreateCustomer`.
    pub customer_data: CustomerDetails,
}

/// The customer details an [`Identity`] carries (sent as Autumn's `customer_data` / name and email;
/// not to be confused with the API models' `CustomerData`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerDetails {
    /// The customer's name.
    pub name: Option<String>,
    /// The customer's email address.
    pub email: Option<String>,
}

impl Identity {
    /// An identity with just a customer id.
    pub fn new(customer_id: impl Into<String>) -> Self {
        Identity {
            customer_id: customer_id.into(),
            customer_data: CustomerDetails::default(),
        }
    }

    /// Sets the customer's name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.customer_data.name = Some(name.into());
        self
    }

    /// Sets the customer's email.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.customer_data.email = Some(email.into());
        self
    }
}

/// Tells the [`AutumnService`](crate::AutumnService) who the caller is. See the [module docs](self).
pub trait Identify: Send + Sync + 'static {
    /// Identifies the caller of one request: `Ok(Some(..))` for a customer, `Ok(None)` for an anonymous
    /// caller, `Err(..)` when identification itself failed.
    fn identify<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> impl Future<Output = Result<Option<Identity>, BoxError>> + Send + 'a;
}

impl<F, Fut, E> Identify for F
where
    F: Fn(&Parts) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Identity>, E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn identify<'a>(
        &'a self,
        parts: &'a Parts,
    ) -> impl Future<Output = Result<Option<Identity>, BoxError>> + Send + 'a {
        let fut = self(parts);
        async move { fut.await.map_err(Into::into) }
    }
}
