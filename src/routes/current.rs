//! The current protocol (autumn-js >= 1.0): `POST <prefix>/<rpcName>` with a camelCase JSON body.
//!
//! | rpcName | Autumn API call | anonymous caller |
//! | --- | --- | --- |
//! | getOrCreateCustomer | `customers.get_or_create` | 401 (204 with `errorOnNotFound: false`) |
//! | getEntity | `entities.get` | 401 |
//! | attach | `billing.attach` | 401 |
//! | previewAttach | `billing.preview_attach` | 401 |
//! | updateSubscription | `billing.update` | 401 |
//! | previewUpdateSubscription | `billing.preview_update` | 401 |
//! | multiAttach | `billing.multi_attach` | 401 |
//! | previewMultiAttach | `billing.preview_multi_attach` | 401 |
//! | setupPayment | `billing.setup_payment` | 401 |
//! | openCustomerPortal | `billing.open_customer_portal` | 401 |
//! | createReferralCode | `referrals.create_code` | 401 |
//! | redeemReferralCode | `referrals.redeem_code` | 401 |
//! | listPlans | `plans.list` | allowed, without a customer |
//! | listEvents | `events.list` | 401 |
//! | aggregateEvents | `events.aggregate` | 401 |

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value};

use super::{error, json, method_not_allowed, not_found};
use crate::body::ResponseBody;
use crate::client::Retry;
use crate::identify::Identify;
use crate::schema::{self, Op, ResponseError};
use crate::service::{BodyError, Call, Shared};
use crate::transport::HttpTransport;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    /// Needs an identified customer; anonymous callers get 401.
    Customer,
    /// Anonymous callers are served without a customer id.
    Anyone,
}

/// One browser route.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) name: &'static str,
    op: Op,
    caller: Caller,
    retry: Retry,
}

const fn route(name: &'static str, op: Op, caller: Caller, retry: Retry) -> Route {
    Route {
        name,
        op,
        caller,
        retry,
    }
}

use Caller::{Anyone, Customer};
use Retry::{Never, Safe};

/// The route table.
static ROUTES: &[Route] = &[
    route(
        "getOrCreateCustomer",
        Op::CustomersGetOrCreate,
        Customer,
        Safe,
    ),
    route("getEntity", Op::EntitiesGet, Customer, Safe),
    route("attach", Op::BillingAttach, Customer, Never),
    route("previewAttach", Op::BillingPreviewAttach, Customer, Safe),
    route("updateSubscription", Op::BillingUpdate, Customer, Never),
    route(
        "previewUpdateSubscription",
        Op::BillingPreviewUpdate,
        Customer,
        Safe,
    ),
    route("multiAttach", Op::BillingMultiAttach, Customer, Never),
    route(
        "previewMultiAttach",
        Op::BillingPreviewMultiAttach,
        Customer,
        Safe,
    ),
    route("setupPayment", Op::BillingSetupPayment, Customer, Never),
    route(
        "openCustomerPortal",
        Op::BillingOpenCustomerPortal,
        Customer,
        Never,
    ),
    route(
        "createReferralCode",
        Op::ReferralsCreateCode,
        Customer,
        Never,
    ),
    route(
        "redeemReferralCode",
        Op::ReferralsRedeemCode,
        Customer,
        Never,
    ),
    route("listPlans", Op::PlansList, Anyone, Safe),
    route("listEvents", Op::EventsList, Customer, Safe),
    route("aggregateEvents", Op::EventsAggregate, Customer, Safe),
];

/// Body fields the browser may not set: the customer comes from `Identify` only.
const PROTECTED: &[&str] = &["customerId", "customerData", "name", "email", "stripeId"];
/// The same fields in the upstream's spelling, removed again after the body is converted.
const PROTECTED_UPSTREAM: &[&str] = &["customer_id", "customer_data", "name", "email", "stripe_id"];

/// Finds the route for the path segments after the prefix.
pub(crate) fn find(segments: &[&str]) -> Option<&'static Route> {
    match segments {
        [name] => ROUTES.iter().find(|r| r.name == *name),
        _ => None,
    }
}

/// Serves one request of the current protocol.
pub(crate) async fn handle<I, T, B>(
    shared: &Shared<I, T>,
    req: Request<B>,
    segments: &[&str],
) -> Response<ResponseBody>
where
    I: Identify,
    T: HttpTransport,
    B: http_body::Body,
    B::Error: Into<crate::transport::BoxError>,
{
    let Some(route) = find(segments) else {
        return not_found();
    };
    tracing::Span::current().record("route", route.name);
    if req.method() != Method::POST {
        return method_not_allowed("POST");
    }
    if let Err(resp) = Shared::<I, T>::require_json(&req) {
        return resp;
    }
    if let Some(resp) = shared.reject_oversized(&req) {
        return resp;
    }
    let (parts, body) = req.into_parts();
    let identity = match shared.identify(&parts).await {
        Ok(identity) => identity,
        Err(resp) => return resp,
    };

    if identity.is_none() && route.caller == Customer && route.op != Op::CustomersGetOrCreate {
        return error(
            StatusCode::UNAUTHORIZED,
            "no_customer_id",
            "customerId returned from identify function is null",
        );
    }
    if let Err(resp) = shared
        .authorize(route.name, identity.as_ref(), &parts)
        .await
    {
        return resp;
    }

    let mut body = match shared.read_json_object(body).await {
        Ok(body) => body,
        // An anonymous caller learns it is anonymous before anything about its JSON.
        Err(BodyError::Invalid(_)) if identity.is_none() => Map::new(),
        Err(e) => return e.into_response(),
    };

    if route.op == Op::CustomersGetOrCreate && identity.is_none() {
        if body.get("errorOnNotFound") == Some(&Value::Bool(false)) {
            let mut resp = Response::new(ResponseBody::empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            return resp;
        }
        return error(
            StatusCode::UNAUTHORIZED,
            "no_customer_id",
            "customerId not found",
        );
    }

    for key in PROTECTED {
        body.remove(*key);
    }
    if route.op == Op::CustomersGetOrCreate {
        body.remove("metadata");
    }
    if let Some(identity) = &identity {
        body.insert(
            "customerId".to_owned(),
            Value::String(identity.customer_id.clone()),
        );
        if route.op == Op::CustomersGetOrCreate {
            let data = &identity.customer_data;
            if let Some(name) = &data.name {
                body.insert("name".to_owned(), Value::String(name.clone()));
            }
            if let Some(email) = &data.email {
                body.insert("email".to_owned(), Value::String(email.clone()));
            }
        }
    }

    let mut upstream = match schema::request_to_upstream(route.op, body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("invalid request body: {}: {}", e.path, e.message),
            )
        }
    };
    // Whatever the conversion did (a browser may send `stripe_id` or `customer_data` already in the
    // upstream's spelling), the customer and its details sent upstream are the identified ones, or none.
    for key in PROTECTED_UPSTREAM {
        upstream.remove(*key);
    }
    // Only what a customer may choose for themselves goes on (`crate::fields`).
    crate::fields::apply_object(route.name, shared.fields.get(route.name), &mut upstream);
    match &identity {
        Some(identity) => {
            upstream.insert(
                "customer_id".to_owned(),
                Value::String(identity.customer_id.clone()),
            );
            if route.op == Op::CustomersGetOrCreate {
                let data = &identity.customer_data;
                if let Some(name) = &data.name {
                    upstream.insert("name".to_owned(), Value::String(name.clone()));
                }
                if let Some(email) = &data.email {
                    upstream.insert("email".to_owned(), Value::String(email.clone()));
                }
            }
        }
        None => {
            upstream.remove("customer_id");
        }
    }
    if route.op == Op::CustomersGetOrCreate {
        append_expand(&mut upstream);
    }

    let call = Call {
        path: route.op.path(),
        retry: route.retry,
    };
    let bytes = match serde_json::to_vec(&upstream) {
        Ok(b) => Bytes::from(b),
        Err(_) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the request could not be encoded",
            )
        }
    };
    let raw = match shared.send(call, bytes).await {
        Ok(raw) => raw,
        Err(resp) => return resp,
    };
    #[cfg(feature = "__bench")]
    if crate::bench::is_copy_conversion() {
        return json(StatusCode::OK, Bytes::copy_from_slice(&raw));
    }
    match schema::response_bytes_to_browser(route.op, &raw) {
        Ok(out) => json(StatusCode::OK, Bytes::from(out)),
        Err(ResponseError::NotJson) => {
            tracing::warn!(
                path = call.path,
                "Autumn answered with a body that is not JSON"
            );
            error(
                StatusCode::BAD_GATEWAY,
                "invalid_upstream_response",
                "Autumn answered with a body that is not JSON",
            )
        }
        Err(ResponseError::Schema(e)) => {
            // The path names keys of Autumn's answer: scrubbed like every string taken from it.
            let path = shared.client.scrub(&e.path);
            tracing::warn!(path, "Autumn's response does not fit its schema");
            error(
                StatusCode::BAD_GATEWAY,
                "invalid_upstream_response",
                &format!(
                    "Autumn's response does not fit its schema at {path}: {}",
                    e.message
                ),
            )
        }
    }
}

/// getOrCreateCustomer always asks for the balances' features (autumn-js does the same, even when the
/// browser already asked).
fn append_expand(body: &mut Map<String, Value>) {
    let item = Value::String("balances.feature".to_owned());
    match body.get_mut("expand") {
        Some(Value::Array(items)) => items.push(item),
        _ => {
            body.insert("expand".to_owned(), Value::Array(vec![item]));
        }
    }
}
