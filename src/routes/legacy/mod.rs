//! The legacy protocol (autumn-js 0.x, last 0.1.85, and the routes of the Python SDK's `AutumnASGI`):
//! REST-like routes under the prefix, each calling the v1.2 API (`x-api-version: 1.2`).
//!
//! | route | Autumn API call (v1.2) | anonymous caller |
//! | --- | --- | --- |
//! | POST `cors` | none: `{"message":"OK"}` | allowed |
//! | POST `customers` | `POST /v1/customers?expand=...` | 401 (202 `null` with `errorOnNotFound: false`) |
//! | POST `attach`, `checkout`, `setup_payment`, `cancel`, `check`, `track`, `query` | `POST /v1/<same>` | 401 |
//! | POST `billing_portal` | `POST /v1/customers/{id}/billing_portal` | 401 |
//! | POST `entities` | `POST /v1/customers/{id}/entities` (an object or an array) | 401 |
//! | GET `entities/:entityId` (`?expand=`) | `GET /v1/customers/{id}/entities/{entityId}?expand=...` | 401 |
//! | DELETE `entities/:entityId` | `DELETE /v1/customers/{id}/entities/{entityId}` | 401 |
//! | GET `products` | `GET /v1/products_beta?customer_id={id}` | allowed, without a customer |
//! | GET `components/pricing_table` | `GET /v1/components/pricing_table?customer_id={id}` | allowed, without a customer |
//! | POST `referrals/code`, `referrals/redeem` | `POST /v1/referrals/code`, `/v1/referrals/redeem` | 401 |
//! | POST `events/list`, `events/aggregate` | `POST /v1/events/list`, `/v1/events/aggregate` | 401 |
//!
//! `{id}` is always the identified customer: `customer_id` and `customer_data` are removed from every body
//! (and, on `customers`, `id`, `name`, `email`, `stripe_id`, `metadata` and `fingerprint`), and no route
//! takes a customer id from its path or query. Every id placed in an upstream path is percent-encoded.
//!
//! The body is converted the way autumn-js 0.1.85 converts it: keys camelCase to snake_case, recursively,
//! except inside `checkoutSessionParams` and `properties`; when two keys convert to the same name the later
//! one wins. Any route that needs a customer answers an anonymous caller whose body has
//! `"errorOnNotFound": false` with 202 `null`, as autumn-js does.
//!
//! Answers: the upstream status and JSON body as they are (a falsy JSON value becomes `null`); an upstream
//! error keeps its status with `{"message", "code"}` taken from Autumn's body. Errors autumn-js produces
//! (401 `no_customer_id`) have its shape `{"message", "code"}`; our own errors (400 `invalid_json`, 405,
//! 413, 502, 504, ...) the crate's `{"message", "code", "statusCode"}`.

//! What the service does for a route, in order (`AutumnService`, `src/service.rs`): [`find`] (404, or 405
//! with the route's methods), [`Route::answer_at_once`] (`cors`), [`entity_id`]; for a POST route the
//! 415 and 413 checks; then identify, reading the body with [`Route::reader`], [`Route::admit`] (anonymous
//! callers), the authorize hook (403), [`plan`], the call, and [`answer`].

use std::borrow::Cow;

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use serde_json::{Map, Value};

use super::{encode, error, json, not_found, Scrub, Upstream};
use crate::body::ResponseBody;
use crate::client::legacy::{
    customers_path, operation, path_segment, path_segment_bytes, pricing_table_path, products_path,
    push_list,
};
use crate::client::{generic_message, RawResponse, Retry, GENERIC_CODE};
use crate::fields::{apply, apply_object, Allowed};
use crate::identify::Identity;

mod body;
#[cfg(test)]
use body::snake_case;
pub(crate) use body::Parsed;
use body::{check_body, expand_param, parse_body, percent_decode};

/// A request body as read: `Ok(None)` when there was none, `Err` with the reason it is not usable JSON.
pub(crate) type Body = Result<Option<Parsed>, String>;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    /// Needs an identified customer.
    Customer,
    /// Served without a customer when the caller is anonymous.
    Anyone,
}

/// What a route does upstream, and how its body is shaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Answers `{"message":"OK"}` itself.
    Cors,
    /// `POST path` with the converted body plus `customer_id` (and identify's `customer_data` when
    /// `customer_data` is set). `url`: a field autumn-js drops when it is `null`.
    Plain {
        path: &'static str,
        customer_data: bool,
        url: Option<&'static str>,
    },
    /// `POST /v1/customers?expand=...` with `id`, identify's name and email, and the rest of the body.
    Customers,
    /// `POST /v1/customers/{id}/billing_portal`.
    BillingPortal,
    /// `POST /v1/customers/{id}/entities` with an object or an array.
    CreateEntity,
    /// `GET /v1/customers/{id}/entities/{entityId}?expand=...`.
    GetEntity,
    /// `DELETE /v1/customers/{id}/entities/{entityId}`.
    DeleteEntity,
    /// `GET /v1/products_beta?customer_id=...`.
    Products,
    /// `GET /v1/components/pricing_table?customer_id=...`.
    PricingTable,
}

/// One browser route: its path after the prefix (`:entityId` matches one segment), method and call.
#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) name: &'static str,
    segments: &'static [&'static str],
    method: Method,
    kind: Kind,
    caller: Caller,
    retry: Retry,
}

const fn route(
    name: &'static str,
    segments: &'static [&'static str],
    method: Method,
    kind: Kind,
    caller: Caller,
    retry: Retry,
) -> Route {
    Route {
        name,
        segments,
        method,
        kind,
        caller,
        retry,
    }
}

const fn plain(path: &'static str, customer_data: bool, url: Option<&'static str>) -> Kind {
    Kind::Plain {
        path,
        customer_data,
        url,
    }
}

use Caller::{Anyone, Customer};
use Retry::{Never, Safe};

const ENTITY: &[&str] = &["entities", ":entityId"];
const SUCCESS_URL: Option<&str> = Some("success_url");

/// The route table.
static ROUTES: &[Route] = &[
    route("cors", &["cors"], Method::POST, Kind::Cors, Anyone, Safe),
    route(
        "customers",
        &["customers"],
        Method::POST,
        Kind::Customers,
        Customer,
        Safe,
    ),
    route(
        "attach",
        &["attach"],
        Method::POST,
        plain("/v1/attach", true, SUCCESS_URL),
        Customer,
        Never,
    ),
    route(
        "checkout",
        &["checkout"],
        Method::POST,
        plain("/v1/checkout", true, SUCCESS_URL),
        Customer,
        Never,
    ),
    route(
        "setup_payment",
        &["setup_payment"],
        Method::POST,
        plain("/v1/setup_payment", true, SUCCESS_URL),
        Customer,
        Never,
    ),
    route(
        "cancel",
        &["cancel"],
        Method::POST,
        plain("/v1/cancel", false, None),
        Customer,
        Never,
    ),
    // A check that sends an event is a write: see `retry_for`.
    route(
        "check",
        &["check"],
        Method::POST,
        plain("/v1/check", true, None),
        Customer,
        Safe,
    ),
    route(
        "track",
        &["track"],
        Method::POST,
        plain("/v1/track", true, None),
        Customer,
        Never,
    ),
    route(
        "query",
        &["query"],
        Method::POST,
        plain("/v1/query", false, None),
        Customer,
        Safe,
    ),
    route(
        "billing_portal",
        &["billing_portal"],
        Method::POST,
        Kind::BillingPortal,
        Customer,
        Never,
    ),
    route(
        "entities",
        &["entities"],
        Method::POST,
        Kind::CreateEntity,
        Customer,
        Never,
    ),
    route(
        "entities/:entityId",
        ENTITY,
        Method::GET,
        Kind::GetEntity,
        Customer,
        Safe,
    ),
    route(
        "entities/:entityId",
        ENTITY,
        Method::DELETE,
        Kind::DeleteEntity,
        Customer,
        Never,
    ),
    route(
        "products",
        &["products"],
        Method::GET,
        Kind::Products,
        Anyone,
        Safe,
    ),
    route(
        "components/pricing_table",
        &["components", "pricing_table"],
        Method::GET,
        Kind::PricingTable,
        Anyone,
        Safe,
    ),
    route(
        "referrals/code",
        &["referrals", "code"],
        Method::POST,
        plain("/v1/referrals/code", false, None),
        Customer,
        Never,
    ),
    route(
        "referrals/redeem",
        &["referrals", "redeem"],
        Method::POST,
        plain("/v1/referrals/redeem", false, None),
        Customer,
        Never,
    ),
    route(
        "events/list",
        &["events", "list"],
        Method::POST,
        plain("/v1/events/list", false, None),
        Customer,
        Safe,
    ),
    route(
        "events/aggregate",
        &["events", "aggregate"],
        Method::POST,
        plain("/v1/events/aggregate", false, None),
        Customer,
        Safe,
    ),
];

/// Body fields that name or describe a customer: only identify decides them.
const CUSTOMER_FIELDS: &[&str] = &["customer_id", "customer_data"];
/// On `customers`, the fields of the customer record the browser may not set.
const CUSTOMER_RECORD_FIELDS: &[&str] = &[
    "id",
    "name",
    "email",
    "customer_id",
    "customer_data",
    "stripe_id",
    "metadata",
    "fingerprint",
];

/// What the path segments name.
#[derive(Debug)]
pub(crate) enum Found<'a> {
    /// A route, with its `:entityId` segment if it has one.
    Route(&'static Route, Option<&'a str>),
    /// A known path called with another method; the methods it takes.
    Method(&'static str),
    /// Nothing.
    None,
}

/// Finds the route for the path segments after the prefix and the method.
pub(crate) fn find<'a>(segments: &[&'a str], method: &Method) -> Found<'a> {
    let (mut get, mut post, mut delete) = (false, false, false);
    for r in ROUTES {
        let Some(param) = matches(r.segments, segments) else {
            continue;
        };
        if r.method == *method {
            return Found::Route(r, param);
        }
        match r.method {
            Method::GET => get = true,
            Method::POST => post = true,
            _ => delete = true,
        }
    }
    match (get, post, delete) {
        (false, false, false) => Found::None,
        (true, _, true) => Found::Method("GET, DELETE"),
        (true, _, false) => Found::Method("GET"),
        (false, true, _) => Found::Method("POST"),
        (false, false, true) => Found::Method("DELETE"),
    }
}

/// `Some(param)` when `segments` fit `pattern` (`param` is the `:` segment, if any).
fn matches<'a>(pattern: &[&str], segments: &[&'a str]) -> Option<Option<&'a str>> {
    if pattern.len() != segments.len() {
        return None;
    }
    let mut param = None;
    for (p, s) in pattern.iter().zip(segments) {
        if p.starts_with(':') {
            param = Some(*s);
        } else if p != s {
            return None;
        }
    }
    Some(param)
}

impl Route {
    /// Whether the route takes a request body (its POST routes).
    pub(crate) fn has_body(&self) -> bool {
        self.method == Method::POST
    }

    /// The answer of a route that makes no call (`cors`: `{"message":"OK"}`), given before anything else.
    pub(crate) fn answer_at_once(&self) -> Option<Response<ResponseBody>> {
        (self.kind == Kind::Cors)
            .then(|| json(StatusCode::OK, Bytes::from_static(br#"{"message":"OK"}"#)))
    }

    /// How to read this route's body. An anonymous caller of a customer route is answered from
    /// `errorOnNotFound` alone: its body is checked as strictly, but not built.
    pub(crate) fn reader(&self, identified: bool) -> fn(&[u8]) -> Body {
        if identified || self.caller == Anyone {
            parse_body
        } else {
            check_body
        }
    }

    /// Who the call is for: the identity, or none on routes anyone may call. An anonymous caller of a
    /// customer route gets autumn-js's answer: 202 `null` when its body says `"errorOnNotFound": false`
    /// (a body autumn-js could not parse counts as no body), else 401.
    pub(crate) fn admit(
        &self,
        identity: Option<Identity>,
        body: &Body,
    ) -> Result<Option<Identity>, Response<ResponseBody>> {
        match (identity, self.caller) {
            (Some(identity), _) => Ok(Some(identity)),
            (None, Anyone) => Ok(None),
            (None, Customer) => {
                let quiet = matches!(body, Ok(Some(p)) if p.error_on_not_found_false);
                Err(if quiet {
                    json(StatusCode::ACCEPTED, Bytes::from_static(b"null"))
                } else {
                    legacy_error(
                        StatusCode::UNAUTHORIZED,
                        "no_customer_id",
                        "customerId returned from identify function is undefined",
                    )
                })
            }
        }
    }
}

/// The route's `:entityId` segment, percent-decoded. `.` and `..` are not ids: a URL parser (autumn-js's
/// included) resolves them away, so no route (404).
pub(crate) fn entity_id(param: Option<&str>) -> Result<Option<Vec<u8>>, Response<ResponseBody>> {
    match param.map(percent_decode) {
        Some(id) if id.is_empty() || id == b"." || id == b".." => Err(not_found()),
        other => Ok(other),
    }
}

/// The upstream call of `route` for `identity` (`None` only on routes anyone may call), from the body
/// as read, the decoded `:entityId` and the query string.
pub(crate) fn plan(
    route: &Route,
    identity: Option<&Identity>,
    body: Body,
    entity_id: Option<&[u8]>,
    query: Option<&str>,
    allowed: &Allowed,
) -> Result<Upstream, Response<ResponseBody>> {
    let body = match body {
        Ok(body) => body.map(|p| p.value),
        Err(message) => return Err(error(StatusCode::BAD_REQUEST, "invalid_json", &message)),
    };
    let call = build(route, identity, body, entity_id, query, allowed)?;
    let body = match &call.body {
        Some(value) => Some(encode(value)?),
        None => None,
    };
    Ok(Upstream {
        operation: operation(call.method, call.path, call.retry),
        body,
    })
}

/// The upstream call a request becomes, before its body is encoded.
#[derive(Debug)]
struct Call {
    method: Method,
    path: Cow<'static, str>,
    body: Option<Value>,
    retry: Retry,
}

/// Shapes the upstream call of `route` for `identity` (`None` only on routes anyone may call).
fn build(
    route: &Route,
    identity: Option<&Identity>,
    body: Option<Value>,
    entity_id: Option<&[u8]>,
    query: Option<&str>,
    allowed: &Allowed,
) -> Result<Call, Response<ResponseBody>> {
    let customer_id = identity.map(|i| i.customer_id.as_str());
    let segment = |id: Option<&str>| -> Result<String, Response<ResponseBody>> {
        id.and_then(|id| path_segment(id).ok())
            .ok_or_else(invalid_customer_id)
    };
    let mut retry = route.retry;
    let (path, body): (Cow<'static, str>, Option<Value>) = match route.kind {
        Kind::Cors => unreachable!("answered before identify"),
        Kind::Plain {
            path,
            customer_data,
            url,
        } => {
            let mut obj = object(body)?;
            strip(&mut obj, CUSTOMER_FIELDS);
            if let Some(field) = url {
                drop_null(&mut obj, field);
            }
            apply_object(route.name, allowed, &mut obj);
            refuse_negative(&obj, path)?;
            if let Some(identity) = identity {
                obj.insert(
                    "customer_id".to_owned(),
                    Value::String(identity.customer_id.clone()),
                );
                if customer_data {
                    obj.insert("customer_data".to_owned(), customer_data_of(identity));
                }
            }
            if path == "/v1/check" && obj.get("send_event").is_some_and(truthy) {
                retry = Never;
            }
            (Cow::Borrowed(path), Some(Value::Object(obj)))
        }
        Kind::Customers => {
            let mut obj = object(body)?;
            let expand = match obj.get("expand") {
                None | Some(Value::Null) => None,
                Some(Value::Array(items)) => {
                    let mut list = Vec::with_capacity(items.len());
                    for item in items {
                        match item {
                            Value::String(s) => list.push(s.clone()),
                            _ => return Err(invalid_request("expand must be a list of strings")),
                        }
                    }
                    Some(list)
                }
                Some(_) => return Err(invalid_request("expand must be a list of strings")),
            };
            strip(&mut obj, CUSTOMER_RECORD_FIELDS);
            apply_object(route.name, allowed, &mut obj);
            if let Some(identity) = identity {
                obj.insert("id".to_owned(), Value::String(identity.customer_id.clone()));
                let data = &identity.customer_data;
                if let Some(name) = &data.name {
                    obj.insert("name".to_owned(), Value::String(name.clone()));
                }
                if let Some(email) = &data.email {
                    obj.insert("email".to_owned(), Value::String(email.clone()));
                }
            }
            (
                Cow::Owned(customers_path(expand.as_deref())),
                Some(Value::Object(obj)),
            )
        }
        Kind::BillingPortal => {
            let mut obj = object(body)?;
            strip(&mut obj, CUSTOMER_FIELDS);
            drop_null(&mut obj, "return_url");
            apply_object(route.name, allowed, &mut obj);
            let path = format!("/v1/customers/{}/billing_portal", segment(customer_id)?);
            (Cow::Owned(path), Some(Value::Object(obj)))
        }
        Kind::CreateEntity => {
            let body = match body {
                // autumn-js sends what it parsed: nothing becomes `null`.
                None => Value::Null,
                Some(Value::Object(mut obj)) => {
                    strip(&mut obj, CUSTOMER_FIELDS);
                    Value::Object(obj)
                }
                Some(Value::Array(mut items)) => {
                    for item in &mut items {
                        if let Value::Object(obj) = item {
                            strip(obj, CUSTOMER_FIELDS);
                        }
                    }
                    Value::Array(items)
                }
                Some(_) => return Err(not_an_object("an object or an array")),
            };
            let mut body = body;
            apply(route.name, allowed, &mut body);
            let path = format!("/v1/customers/{}/entities", segment(customer_id)?);
            (Cow::Owned(path), Some(body))
        }
        Kind::GetEntity | Kind::DeleteEntity => {
            let entity = entity_id
                .and_then(path_segment_bytes)
                .ok_or_else(super::not_found)?;
            let mut path = format!(
                "/v1/customers/{}/entities/{}",
                segment(customer_id)?,
                entity
            );
            if route.kind == Kind::GetEntity {
                if let Some(expand) = query.and_then(expand_param) {
                    path.push_str("?expand=");
                    push_list(&mut path, expand.split(','));
                }
            }
            (Cow::Owned(path), None)
        }
        Kind::Products => (Cow::Owned(products_path(customer_id)), None),
        Kind::PricingTable => (Cow::Owned(pricing_table_path(customer_id)), None),
    };
    Ok(Call {
        method: route.method.clone(),
        path,
        body,
        retry,
    })
}

/// The browser's answer to Autumn's: a 2xx JSON body as Autumn sent it (a falsy one becomes `null`, as
/// `data || error` makes it in autumn-js); an error with Autumn's status and its `message` and `code`,
/// scrubbed; 502 for a 2xx that is not JSON.
pub(crate) fn answer(raw: RawResponse, scrub: Scrub<'_>) -> Response<ResponseBody> {
    if raw.status.is_success() && is_json_container(&raw.body) {
        // An object or an array is truthy: passed on as Autumn sent it, checked but never built.
        return json(raw.status, raw.body);
    }
    let parsed = serde_json::from_slice::<Value>(&raw.body);
    if raw.status.is_success() {
        return match parsed {
            // autumn-js answers `data || error`: a falsy answer becomes `null`.
            Ok(value) if !truthy(&value) => json(raw.status, Bytes::from_static(b"null")),
            Ok(_) => json(raw.status, raw.body),
            Err(_) => {
                tracing::warn!("Autumn answered with a body that is not JSON");
                error(
                    StatusCode::BAD_GATEWAY,
                    "invalid_upstream_response",
                    "Autumn answered with a body that is not JSON",
                )
            }
        };
    }
    match parsed {
        Ok(Value::Object(upstream)) => {
            // `message` and `code` as Autumn sent them (absent stays absent), scrubbed of the secret key
            // and of anything shaped like a key. One that is not a string is never copied (it could
            // carry anything): the generic message or code takes its place.
            let mut out = Map::new();
            if let Some(message) = upstream.get("message") {
                let message = match message {
                    Value::String(s) => scrub(s),
                    _ => generic_message(raw.status).to_owned(),
                };
                out.insert("message".to_owned(), Value::String(message));
            }
            if let Some(code) = upstream.get("code") {
                let code = match code {
                    Value::String(s) => scrub(s),
                    _ => GENERIC_CODE.to_owned(),
                };
                out.insert("code".to_owned(), Value::String(code));
            }
            match serde_json::to_vec(&out) {
                Ok(bytes) => json(raw.status, Bytes::from(bytes)),
                Err(_) => error(raw.status, GENERIC_CODE, "Autumn answered an error"),
            }
        }
        // Not Autumn's JSON error (a proxy's HTML page, say): keep the status, never echo the body.
        _ => error(
            raw.status,
            "autumn_api_error",
            &format!(
                "Autumn answered {} with a body that is not a JSON object",
                raw.status.as_u16()
            ),
        ),
    }
}

/// Whether `body` is one JSON object or array in UTF-8 (validated without building it; skipping a
/// value does not check its strings' UTF-8, so the whole body is checked first).
fn is_json_container(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    ) && std::str::from_utf8(body)
        .is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
}

/// The error shape autumn-js 0.x answers with: `{"message", "code"}`.
fn legacy_error(status: StatusCode, code: &str, message: &str) -> Response<ResponseBody> {
    let body = serde_json::json!({ "message": message, "code": code });
    json(status, Bytes::from(body.to_string()))
}

fn invalid_request(message: &str) -> Response<ResponseBody> {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        &format!("invalid request body: {message}"),
    )
}

fn invalid_customer_id() -> Response<ResponseBody> {
    tracing::error!("the identify hook returned a customer id that cannot be placed in a path");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "identify_error",
        "could not identify the caller",
    )
}

fn not_an_object(what: &str) -> Response<ResponseBody> {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_json",
        &format!("the request body must be {what}"),
    )
}

/// The body as an object: no body is an empty one.
fn object(body: Option<Value>) -> Result<Map<String, Value>, Response<ResponseBody>> {
    match body {
        None => Ok(Map::new()),
        Some(Value::Object(obj)) => Ok(obj),
        Some(_) => Err(not_an_object("a JSON object")),
    }
}

fn strip(obj: &mut Map<String, Value>, fields: &[&str]) {
    for field in fields {
        obj.remove(*field);
    }
}

/// autumn-js writes `field: body.field ?? default` with no default: a `null` disappears.
fn drop_null(obj: &mut Map<String, Value>, field: &str) {
    if obj.get(field) == Some(&Value::Null) {
        obj.remove(field);
    }
}

/// Identify's customer details, as the v1.2 `customer_data` object (unset fields left out).
fn customer_data_of(identity: &Identity) -> Value {
    let data = &identity.customer_data;
    let mut obj = Map::new();
    if let Some(name) = &data.name {
        obj.insert("name".to_owned(), Value::String(name.clone()));
    }
    if let Some(email) = &data.email {
        obj.insert("email".to_owned(), Value::String(email.clone()));
    }
    Value::Object(obj)
}

/// JavaScript truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// A browser may use up its own balance, never give itself more: a negative `value` on `track` (or
/// `required_balance` on `check`, which `send_event` turns into a track) is a 400.
fn refuse_negative(obj: &Map<String, Value>, path: &str) -> Result<(), Response<ResponseBody>> {
    let field = match path {
        "/v1/track" => "value",
        "/v1/check" => "required_balance",
        _ => return Ok(()),
    };
    match obj.get(field).and_then(Value::as_f64) {
        Some(v) if v < 0.0 => Err(invalid_request(&format!("{field} must not be negative"))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
