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
//!
//! What the service does for a route, in order (`AutumnService`, `src/service.rs`): 404 for an unknown
//! name, 405 for a method other than POST, 415 for a body not declared JSON, 413 for a declared length
//! over the limit; then identify, [`Route::refuse_anonymous`], the authorize hook (403), reading the
//! body ([`parse_body`]), [`plan`], the call, and [`answer`].
//!
//! The upstream path and retry class of each route come from the client's operation table
//! (`src/client/generated.rs`, through [`Op::info`]). The fields that name the customer
//! ([`IDENTITY_FIELDS`], and on getOrCreateCustomer [`CUSTOMER_RECORD`]) are left out of the
//! conversion, in every spelling, and only the identified ones are sent.

use std::sync::OnceLock;

use bytes::Bytes;
use http::{Response, StatusCode};
use serde_json::{Map, Value};

use super::{encode_failed, error, json, Scrub, Upstream};
use crate::body::ResponseBody;
use crate::client::{api_error_object, RawResponse, GENERIC_CODE};
use crate::fields::{apply_object, Allowed};
use crate::identify::Identity;
use crate::schema::{self, FieldError, Op, ResponseError};

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
    /// Body fields (upstream spelling) only identify decides: never taken from the browser.
    protected: &'static [&'static str],
    /// Whether the conversion of an empty body is an empty body (no defaults, nothing required):
    /// found at the first empty body, after which an empty body skips the conversion.
    empty_converts_to_empty: OnceLock<bool>,
}

const fn route(
    name: &'static str,
    op: Op,
    caller: Caller,
    protected: &'static [&'static str],
) -> Route {
    Route {
        name,
        op,
        caller,
        protected,
        empty_converts_to_empty: OnceLock::new(),
    }
}

/// The fields that name or describe the customer: the identified customer's, never the browser's.
pub(crate) const IDENTITY_FIELDS: &[&str] =
    &["customer_id", "customer_data", "name", "email", "stripe_id"];
/// On getOrCreateCustomer, the customer record's fields: the identity's, and its `metadata` (the app's
/// own data about the customer).
pub(crate) const CUSTOMER_RECORD: &[&str] = &[
    "customer_id",
    "customer_data",
    "name",
    "email",
    "stripe_id",
    "metadata",
];

use Caller::{Anyone, Customer};

/// The route table: rpc name, operation, who may call it, what the browser may not set.
static ROUTES: [Route; 15] = [
    route(
        "getOrCreateCustomer",
        Op::CustomersGetOrCreate,
        Customer,
        CUSTOMER_RECORD,
    ),
    route("getEntity", Op::EntitiesGet, Customer, IDENTITY_FIELDS),
    route("attach", Op::BillingAttach, Customer, IDENTITY_FIELDS),
    route(
        "previewAttach",
        Op::BillingPreviewAttach,
        Customer,
        IDENTITY_FIELDS,
    ),
    route(
        "updateSubscription",
        Op::BillingUpdate,
        Customer,
        IDENTITY_FIELDS,
    ),
    route(
        "previewUpdateSubscription",
        Op::BillingPreviewUpdate,
        Customer,
        IDENTITY_FIELDS,
    ),
    route(
        "multiAttach",
        Op::BillingMultiAttach,
        Customer,
        IDENTITY_FIELDS,
    ),
    route(
        "previewMultiAttach",
        Op::BillingPreviewMultiAttach,
        Customer,
        IDENTITY_FIELDS,
    ),
    route(
        "setupPayment",
        Op::BillingSetupPayment,
        Customer,
        IDENTITY_FIELDS,
    ),
    route(
        "openCustomerPortal",
        Op::BillingOpenCustomerPortal,
        Customer,
        IDENTITY_FIELDS,
    ),
    route(
        "createReferralCode",
        Op::ReferralsCreateCode,
        Customer,
        IDENTITY_FIELDS,
    ),
    route(
        "redeemReferralCode",
        Op::ReferralsRedeemCode,
        Customer,
        IDENTITY_FIELDS,
    ),
    route("listPlans", Op::PlansList, Anyone, IDENTITY_FIELDS),
    route("listEvents", Op::EventsList, Customer, IDENTITY_FIELDS),
    route(
        "aggregateEvents",
        Op::EventsAggregate,
        Customer,
        IDENTITY_FIELDS,
    ),
];

/// Finds the route for the path segments after the prefix.
pub(crate) fn find(segments: &[&str]) -> Option<&'static Route> {
    match segments {
        [name] => ROUTES.iter().find(|r| r.name == *name),
        _ => None,
    }
}

impl Route {
    /// The conversion of the browser's body (protected fields left out). An empty body is converted
    /// once per route: when that gives an empty body, later empty bodies skip the (pure) conversion.
    fn to_upstream(&self, body: Map<String, Value>) -> Result<Map<String, Value>, FieldError> {
        let convert = |body| schema::request_to_upstream_except(self.op, body, self.protected);
        if body.is_empty()
            && *self
                .empty_converts_to_empty
                .get_or_init(|| convert(Map::new()).is_ok_and(|m| m.is_empty()))
        {
            return Ok(body);
        }
        convert(body)
    }

    /// The 401 an anonymous caller gets before its body is read: every route that needs a customer
    /// except getOrCreateCustomer, which first looks at `errorOnNotFound` (see [`plan`]).
    pub(crate) fn refuse_anonymous(
        &self,
        identity: Option<&Identity>,
    ) -> Option<Response<ResponseBody>> {
        (identity.is_none() && self.caller == Customer && self.op != Op::CustomersGetOrCreate).then(
            || {
                error(
                    StatusCode::UNAUTHORIZED,
                    "no_customer_id",
                    "customerId returned from identify function is null",
                )
            },
        )
    }
}

/// Reads a request body: empty means `{}`, anything but a JSON object is a 400.
pub(crate) fn parse_body(bytes: &[u8]) -> Result<Map<String, Value>, Response<ResponseBody>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    // autumn-js's usual body, `{}` (JSON whitespace around it allowed), without the parser.
    let json_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let start = bytes
        .iter()
        .position(|b| !json_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !json_space(b))
        .map_or(start, |i| i + 1);
    if &bytes[start..end] == b"{}" {
        return Ok(Map::new());
    }
    match crate::json::Strict::PLAIN.read(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            &format!("the request body is not valid JSON: {e}"),
        )),
    }
}

/// The upstream call for `route`, from the identity and the browser's body (already a JSON object), or
/// the answer to give at once.
///
/// An anonymous getOrCreateCustomer is answered here: 204 with `"errorOnNotFound": false`, else 401.
/// Otherwise the body is converted (the route's protected fields left out, unread), cut to the fields the
/// browser may set (`allowed`, see [`crate::fields`]), and given the identity: `customer_id`, and on
/// getOrCreateCustomer the identity's `name` and `email` and the `balances.feature` expansion.
pub(crate) fn plan(
    route: &Route,
    identity: Option<&Identity>,
    body: Map<String, Value>,
    allowed: &Allowed,
) -> Result<Upstream, Response<ResponseBody>> {
    let get_or_create = route.op == Op::CustomersGetOrCreate;
    if get_or_create && identity.is_none() {
        if body.get("errorOnNotFound") == Some(&Value::Bool(false)) {
            let mut resp = Response::new(ResponseBody::empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            return Err(resp);
        }
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "no_customer_id",
            "customerId not found",
        ));
    }
    let mut upstream = route.to_upstream(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("invalid request body: {}: {}", e.path, e.message),
        )
    })?;
    apply_object(route.name, allowed, &mut upstream);
    // The identity's fields are written straight after the encoded body: none of them is in it (they
    // are protected), and building them as map entries would cost an allocation each.
    let mut extra: [Option<(&str, &str)>; 3] = [None; 3];
    if let Some(identity) = identity {
        extra[0] = Some(("customer_id", identity.customer_id.as_str()));
        if get_or_create {
            let data = &identity.customer_data;
            extra[1] = data.name.as_deref().map(|name| ("name", name));
            extra[2] = data.email.as_deref().map(|email| ("email", email));
        }
    }
    // getOrCreateCustomer always asks for the balances' features (autumn-js does the same, even when
    // the browser already asked).
    let mut expand_missing = false;
    if get_or_create {
        match upstream.get_mut("expand") {
            Some(Value::Array(items)) => items.push(Value::String(EXPAND_FEATURE.to_owned())),
            _ => expand_missing = true,
        }
    }
    let body = encode_with(&upstream, extra.iter().flatten(), expand_missing)?;
    Ok(Upstream {
        operation: route.op.info().operation(),
        body: Some(body),
    })
}

/// `Bytes` from a buffer, its spare capacity given back first: `Bytes::from` a `Vec` with spare room
/// allocates a shared header for it, one more allocation a request.
fn exact(buf: Vec<u8>) -> Bytes {
    Bytes::from(buf.into_boxed_slice())
}

/// The item getOrCreateCustomer adds to `expand`.
const EXPAND_FEATURE: &str = "balances.feature";

/// `body` encoded, with the string fields `extra` and, when `expand` is set, `"expand":["balances.feature"]`
/// added (none of them may be in `body`).
fn encode_with<'a>(
    body: &Map<String, Value>,
    extra: impl Iterator<Item = &'a (&'a str, &'a str)>,
    expand: bool,
) -> Result<Bytes, Response<ResponseBody>> {
    let mut out = Vec::with_capacity(128);
    let encoded = serde_json::to_writer(&mut out, body);
    if encoded.is_err() || out.pop() != Some(b'}') {
        return Err(encode_failed());
    }
    let add = |out: &mut Vec<u8>, key: &str, value: &dyn Fn(&mut Vec<u8>)| {
        if out.len() > 1 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        value(out);
    };
    for (key, value) in extra {
        // A `&str` always encodes.
        add(&mut out, key, &|out| {
            drop(serde_json::to_writer(out, value))
        });
    }
    if expand {
        add(&mut out, "expand", &|out| {
            out.extend_from_slice(b"[\"");
            out.extend_from_slice(EXPAND_FEATURE.as_bytes());
            out.extend_from_slice(b"\"]");
        });
    }
    out.push(b'}');
    // Not `exact`: the client clones the body for each attempt, and a clone of a body without a shared
    // header allocates one, so giving back the spare capacity first would only add a `realloc`.
    Ok(Bytes::from(out))
}

/// The browser's answer to Autumn's: a 2xx converted as autumn-js's SDK converts it (502 when it does
/// not fit), an error as `{message, code, statusCode}` with Autumn's status (its `message` and `code`
/// scrubbed; nothing else of its body, and nothing at all when the body is not Autumn's JSON error).
pub(crate) fn answer(route: &Route, raw: RawResponse, scrub: Scrub<'_>) -> Response<ResponseBody> {
    if !raw.status.is_success() {
        return match api_error_object(raw.status, &raw.body, scrub) {
            Some(api) => error(api.status(), api.code(), api.message()),
            None => error(
                raw.status,
                GENERIC_CODE,
                &format!(
                    "Autumn answered {} with a body that is not JSON",
                    raw.status.as_u16()
                ),
            ),
        };
    }
    #[cfg(feature = "__bench")]
    if crate::bench::is_copy_conversion() {
        return json(StatusCode::OK, bytes::Bytes::copy_from_slice(&raw.body));
    }
    match schema::response_bytes_to_browser(route.op, &raw.body) {
        Ok(out) => json(StatusCode::OK, exact(out)),
        Err(ResponseError::NotJson) => {
            tracing::warn!(
                path = route.op.path(),
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
            let path = scrub(&e.path);
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fields::{Edit, Lists, CURRENT};

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("an object"),
        }
    }

    fn sent(up: &Upstream) -> Value {
        serde_json::from_slice(up.body.as_deref().expect("a body")).expect("JSON")
    }

    /// Even with every protected field allowed by the app, and sent by the browser in both spellings and
    /// with the wrong types, only the identity reaches Autumn (and the wrong types are no error: the
    /// fields are not read).
    #[test]
    fn the_customer_sent_is_the_identity_whatever_the_body_says() {
        let widen = CUSTOMER_RECORD.iter().map(|s| (*s).to_owned()).collect();
        let lists = Lists::new(
            CURRENT,
            &[Edit::Allow("getOrCreateCustomer".to_owned(), widen)],
        )
        .expect("lists");
        let route = find(&["getOrCreateCustomer"]).expect("route");
        let identity = Identity::new("cus_real").with_email("real@example.com");
        let body = object(json!({
            "customerId": 5, "customer_id": "cus_other",
            "customerData": {"name": 3}, "customer_data": {"name": "x"},
            "name": ["spoof"], "email": 7, "stripeId": "cus_s", "stripe_id": "cus_s",
            "metadata": {"plan": "free"}
        }));
        let up = plan(route, Some(&identity), body, lists.get(route.name)).expect("a call");
        assert_eq!(
            sent(&up),
            json!({
                "customer_id": "cus_real",
                "email": "real@example.com",
                "expand": ["balances.feature"]
            })
        );
        assert_eq!(up.operation.path, "/v1/customers.get_or_create");
    }

    /// An empty body converts as the schema converts it, whether or not the conversion was skipped.
    #[test]
    fn an_empty_body_converts_as_the_schema_converts_it() {
        for route in &ROUTES {
            let expected = format!(
                "{:?}",
                schema::request_to_upstream_except(route.op, Map::new(), route.protected)
            );
            for _ in 0..2 {
                assert_eq!(format!("{:?}", route.to_upstream(Map::new())), expected);
            }
            let body = object(json!({"customerId": "x"}));
            let expected = format!(
                "{:?}",
                schema::request_to_upstream_except(route.op, body.clone(), route.protected)
            );
            assert_eq!(format!("{:?}", route.to_upstream(body)), expected);
        }
    }

    /// `{}` is read without the parser, and nothing else is: JSON's whitespace only around it.
    #[test]
    fn the_empty_object_is_read_as_the_parser_reads_it() {
        for body in ["{}", " \t\r\n{} \n", "", "  ", "{ }"] {
            assert_eq!(
                parse_body(body.as_bytes()).ok(),
                Some(Map::new()),
                "{body:?}"
            );
        }
        for body in ["\u{c}{}", "{}\u{c}", "{}}", "{{}", "[]", "{}{}"] {
            let refused = parse_body(body.as_bytes()).expect_err(body);
            assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{body:?}");
        }
    }

    #[test]
    fn an_anonymous_list_plans_sends_no_customer() {
        let lists = Lists::defaults(CURRENT);
        let route = find(&["listPlans"]).expect("route");
        let body = object(json!({"customerId": "cus_spoof", "customer_id": "cus_spoof"}));
        let up = plan(route, None, body, lists.get(route.name)).expect("a call");
        assert_eq!(sent(&up), json!({}));
    }

    #[test]
    fn anonymous_callers_are_refused_before_their_body_except_on_get_or_create() {
        let anonymous = |name: &str| find(&[name]).expect("route").refuse_anonymous(None);
        assert_eq!(
            anonymous("attach").map(|r| r.status()),
            Some(StatusCode::UNAUTHORIZED)
        );
        assert!(anonymous("listPlans").is_none());
        assert!(anonymous("getOrCreateCustomer").is_none());
        let route = find(&["getOrCreateCustomer"]).expect("route");
        let lists = Lists::defaults(CURRENT);
        let quiet = plan(
            route,
            None,
            object(json!({"errorOnNotFound": false})),
            lists.get(route.name),
        )
        .expect_err("answered at once");
        assert_eq!(quiet.status(), StatusCode::NO_CONTENT);
        let loud = plan(route, None, Map::new(), lists.get(route.name)).expect_err("answered");
        assert_eq!(loud.status(), StatusCode::UNAUTHORIZED);
    }
}
