//! A fake Autumn REST API (2.x) on `127.0.0.1`, driven by the committed OpenAPI spec.
//!
//! The fake serves every `POST /v1/<resource>.<op>` path of `spec/autumn-api-2.x.yml`.
//! For each request it:
//!
//! 1. records the method, path, query, headers and body ([`Recorded`]);
//! 2. checks the request against the spec: the JSON body against the operation's `requestBody`
//!    schema (with the `jsonschema` crate), plus the headers every Autumn call needs
//!    (`Authorization: Bearer ...`, `x-api-version`, a JSON content type). Each problem becomes a
//!    violation on the recorded request; [`FakeAutumn::assert_no_violations`] fails the test on any;
//! 3. answers with the operation's success response, generated from its response schema: every
//!    optional field and nested object is present, user-keyed maps (`additionalProperties`) hold the
//!    keys `camelCaseKey` and `snake_key`, enums take their first real value, `anyOf` takes its first
//!    non-null branch, and under-specified values (`anyOf: [{}, {}]`, e.g. `tiers[].to`) are numbers.
//!    Responses are generated once per process and cached. URLs in them point back at the fake
//!    (`<fake>/__fake/checkout/...`, which serves a small HTML page), so a browser can follow them.
//!
//! A path can be scripted to misbehave instead, with any [`Fault`] of the kit's one vocabulary
//! (`support::fault`): a chosen status and JSON body, a non-JSON 200, a delay, a connection reset
//! before any response byte or in the middle of the body, and so on. Accepted TCP connections are
//! counted.
//!
//! The same controls are served over HTTP on the fake itself, for test drivers in other languages:
//!
//! | request | effect |
//! | --- | --- |
//! | `GET /__fake/requests` | JSON array of the recorded requests (see [`Recorded`]) |
//! | `GET /__fake/violations` | JSON array of strings, one per violation |
//! | `GET /__fake/connections` | `{"connections": <accepted TCP connections>}` |
//! | `POST /__fake/reset` | forget requests, scripts and the connection count |
//! | `POST /__fake/script` | body `{"path": "/v1/billing.attach" or "*", "fault": <Fault as JSON, tagged by `kind`>, "times": <optional count>}` |
//! | `GET /__fake/checkout/...` | an HTML page standing for a Stripe checkout or portal |
//!
//! ```ignore
//! mod support;
//! use support::{FakeAutumn, Fault};
//!
//! let fake = FakeAutumn::start().await;
//! // point the code under test at fake.url() ...
//! fake.script("/v1/billing.attach", Fault::Status { status: 402, body: serde_json::json!({}) });
//! let seen = fake.requests();
//! fake.assert_no_violations();
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::fault::{Fault, RATE_LIMITED_BODY};

/// The Autumn API spec, in the JSON form `tools/spec_json.py` makes of `spec/autumn-api-2.x.yml`.
const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/autumn-api-2.x.json");

/// Placeholder for the fake's own base URL inside generated (cached) responses; replaced when
/// a response is served, so one cache serves every fake instance of the process.
const SELF_URL: &str = "__FAKE_AUTUMN_SELF_URL__";

/// The key names the generator uses for user-keyed maps: one camelCase, one snake_case, so a
/// proxy that renames map keys is caught.
pub const MAP_KEYS: [&str; 2] = ["camelCaseKey", "snake_key"];

/// One request the fake received (control requests under `/__fake/` are not recorded).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recorded {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path without the query, e.g. `/v1/billing.attach`.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Headers, names lowercased (a repeated header appears once per value).
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8).
    pub raw_body: String,
    /// The body parsed as JSON; `None` when empty or not JSON.
    pub body: Option<Value>,
    /// What is wrong with this request according to the spec; empty when it conforms.
    pub violations: Vec<String>,
}

impl Recorded {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// State shared by the fake's tasks and its handle.
#[derive(Default)]
struct State {
    requests: Mutex<Vec<Recorded>>,
    /// Per path (or `*`): the fault, and how many more requests it applies to (`None`: all).
    scripts: Mutex<HashMap<String, (Fault, Option<usize>)>>,
    connections: AtomicUsize,
    base_url: String,
}

/// A running fake Autumn API; stops accepting connections when dropped.
pub struct FakeAutumn {
    addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl fmt::Debug for FakeAutumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeAutumn")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeAutumn {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl FakeAutumn {
    /// Loads the spec (once per process), binds `127.0.0.1:0` and starts serving.
    ///
    /// Needs a tokio runtime with the IO and time drivers.
    pub async fn start() -> FakeAutumn {
        // Parsing the 2 MB spec is CPU work: keep it off the runtime's worker.
        tokio::task::spawn_blocking(spec)
            .await
            .expect("loading the Autumn spec panicked");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let state = Arc::new(State {
            base_url: format!("http://{addr}"),
            ..State::default()
        });
        let accept = tokio::spawn(accept_loop(listener, state.clone()));
        FakeAutumn {
            addr,
            state,
            accept,
        }
    }

    /// The base URL, `http://127.0.0.1:<port>`, without `/v1`.
    pub fn url(&self) -> String {
        self.state.base_url.clone()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests recorded since the start or the last [`reset`](Self::reset), oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Makes `path` (e.g. `/v1/billing.attach`, or `*` for every path) misbehave until the next
    /// [`reset`](Self::reset). A path-specific script wins over `*`.
    pub fn script(&self, path: &str, fault: Fault) {
        self.state
            .scripts
            .lock()
            .unwrap()
            .insert(path.to_owned(), (fault, None));
    }

    /// Like [`script`](Self::script), but only for the next `times` requests to `path`; later
    /// ones are answered normally, or by the `*` script if there is one (e.g. "fail twice, then
    /// succeed" for retry tests, or a first page and then the last).
    pub fn script_times(&self, path: &str, fault: Fault, times: usize) {
        self.state
            .scripts
            .lock()
            .unwrap()
            .insert(path.to_owned(), (fault, Some(times)));
    }

    /// Forgets recorded requests, scripts and the connection count.
    pub fn reset(&self) {
        self.state.requests.lock().unwrap().clear();
        self.state.scripts.lock().unwrap().clear();
        self.state.connections.store(0, Ordering::SeqCst);
    }

    /// How many TCP connections were accepted since the start or the last reset.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Every violation recorded so far, each prefixed with its request's path.
    pub fn violations(&self) -> Vec<String> {
        violations_of(&self.state.requests.lock().unwrap())
    }

    /// Panics, listing them, if any recorded request violated the spec.
    #[track_caller]
    pub fn assert_no_violations(&self) {
        let violations = self.violations();
        assert!(
            violations.is_empty(),
            "requests to the fake Autumn API violated the spec:\n{}",
            violations.join("\n")
        );
    }

    /// The success body the fake answers on `path` (as served by this instance), or `None` for a
    /// path the spec does not have.
    pub fn response_for(&self, path: &str) -> Option<Value> {
        let text = generated_response(path)?;
        serde_json::from_str(&text.replace(SELF_URL, &self.state.base_url)).ok()
    }
}

fn violations_of(requests: &[Recorded]) -> Vec<String> {
    requests
        .iter()
        .flat_map(|r| {
            r.violations
                .iter()
                .map(move |v| format!("{} {}: {}", r.method, r.path, v))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The spec: operations, request validators, generated responses.

/// One operation of the spec.
struct Operation {
    method: Method,
    /// The JSON schema of the request body, if the operation takes one.
    request: Option<Value>,
    /// Whether the spec says the request body is required.
    request_required: bool,
    /// The success status the fake answers with (200, or the first 2xx).
    status: u16,
    /// The JSON schema of that success response.
    response: Option<Value>,
    /// Compiled lazily: a validator for `request`, or why it could not be built.
    validator: OnceLock<Result<jsonschema::Validator, String>>,
    /// Generated lazily: the success body as compact JSON, with [`SELF_URL`] placeholders.
    generated: OnceLock<Option<String>>,
}

/// The parsed spec.
struct Spec {
    /// The whole document, as JSON.
    root: Value,
    /// Operations by path (`/v1/billing.attach`).
    operations: HashMap<String, Operation>,
}

/// The spec, parsed once per process.
fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(load_spec)
}

fn load_spec() -> Spec {
    let text = std::fs::read_to_string(SPEC_PATH)
        .unwrap_or_else(|e| panic!("cannot read the Autumn spec at {SPEC_PATH}: {e}"));
    let root: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the Autumn spec at {SPEC_PATH} is not valid JSON: {e}"));
    let mut operations = HashMap::new();
    let paths = root["paths"]
        .as_object()
        .expect("the spec has no `paths` object");
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            let request = op
                .pointer("/requestBody/content/application~1json/schema")
                .cloned();
            let request_required = op
                .pointer("/requestBody/required")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let responses = op["responses"].as_object();
            let status = responses
                .and_then(|r| {
                    if r.contains_key("200") {
                        Some(200)
                    } else {
                        r.keys()
                            .filter_map(|k| k.parse::<u16>().ok())
                            .find(|s| (200..300).contains(s))
                    }
                })
                .unwrap_or(200);
            let response = op
                .pointer(&format!(
                    "/responses/{status}/content/application~1json/schema"
                ))
                .cloned();
            operations.insert(
                path.clone(),
                Operation {
                    method,
                    request,
                    request_required,
                    status,
                    response,
                    validator: OnceLock::new(),
                    generated: OnceLock::new(),
                },
            );
        }
    }
    assert!(!operations.is_empty(), "the spec has no operations");
    Spec { root, operations }
}

/// Wraps an operation's schema into a document whose `#/components/...` references resolve.
fn standalone_schema(schema: &Value, root: &Value) -> Value {
    let mut doc = match schema {
        Value::Object(map) => map.clone(),
        other => {
            let mut map = Map::new();
            map.insert("allOf".into(), json!([other]));
            map
        }
    };
    doc.insert("components".into(), root["components"].clone());
    Value::Object(doc)
}

impl Operation {
    /// The request validator, compiled on first use.
    fn validator(&self, root: &Value) -> Result<&jsonschema::Validator, &str> {
        self.validator
            .get_or_init(|| {
                let Some(schema) = &self.request else {
                    return Err("the operation has no request schema".to_owned());
                };
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&standalone_schema(schema, root))
                    .map_err(|e| format!("the spec's request schema does not compile: {e}"))
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

/// The generated success body for `path` (cached), with [`SELF_URL`] placeholders.
fn generated_response(path: &str) -> Option<String> {
    let spec = spec();
    let op = spec.operations.get(path)?;
    op.generated
        .get_or_init(|| {
            let schema = op.response.as_ref()?;
            let hint = path.trim_start_matches("/v1/");
            let value = Generator {
                root: &spec.root,
                path: hint,
            }
            .value(schema, "", 0);
            Some(serde_json::to_string(&value).expect("serialize generated response"))
        })
        .clone()
}

/// Client settings for a fake at `url`: the key `key` and no retries, so that a test sees each
/// request it makes exactly once.
pub fn client_builder(url: impl Into<String>, key: &str) -> autumn_tower::ClientBuilder {
    autumn_tower::Client::builder()
        .secret_key(key)
        .base_url(url)
        .retry(autumn_tower::RetryPolicy::none())
}

/// A request body for `path` built like the responses: every optional field and nested object
/// present (see the module docs), or `None` when the operation takes no body or is unknown. Tests
/// use it to send the fullest spec-valid request through the typed client.
#[allow(dead_code)]
pub fn generated_request(path: &str) -> Option<Value> {
    let spec = spec();
    let op = spec.operations.get(path)?;
    let schema = op.request.as_ref()?;
    // An object without declared fields (`{"type": "object"}`): its fullest request is `{}`.
    if schema.get("properties").is_none() && schema.get("type") == Some(&json!("object")) {
        return Some(json!({}));
    }
    let value = Generator {
        root: &spec.root,
        path: path.trim_start_matches("/v1/"),
    }
    .value(schema, "", 0);
    // URLs point at a loopback address (the responses' placeholder is no valid URI).
    let text = serde_json::to_string(&value).expect("serialize generated request");
    serde_json::from_str(&text.replace(SELF_URL, "http://127.0.0.1")).ok()
}

/// Builds a populated instance of a response schema.
struct Generator<'a> {
    root: &'a Value,
    /// The operation, e.g. `billing.attach`; used in generated URLs.
    path: &'a str,
}

/// A schema with no constraints at all (`{}` or `true`), ignoring annotations.
fn is_unconstrained(schema: &Value) -> bool {
    match schema {
        Value::Bool(b) => *b,
        Value::Object(map) => map.keys().all(|k| {
            matches!(
                k.as_str(),
                "description" | "title" | "examples" | "example" | "default" | "deprecated"
            )
        }),
        _ => false,
    }
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
        || schema.get("const").is_some_and(Value::is_null)
}

impl Generator<'_> {
    /// A value for `schema`; `key` is the property (or map key) it sits under.
    fn value(&self, schema: &Value, key: &str, depth: usize) -> Value {
        assert!(
            depth < 40,
            "the spec's response schema nests too deeply at {key:?} (a reference cycle?)"
        );
        if is_unconstrained(schema) {
            return underspecified(key);
        }
        let Some(obj) = schema.as_object() else {
            return Value::Null;
        };
        if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
            let target = reference
                .strip_prefix('#')
                .and_then(|p| self.root.pointer(p))
                .unwrap_or_else(|| panic!("unresolvable $ref {reference} in the spec"));
            return self.value(target, key, depth + 1);
        }
        if let Some(value) = obj.get("const") {
            return value.clone();
        }
        if let Some(values) = obj.get("enum").and_then(Value::as_array) {
            return values
                .iter()
                .find(|v| !v.is_null())
                .or(values.first())
                .cloned()
                .unwrap_or(Value::Null);
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(branches) = obj.get(keyword).and_then(Value::as_array) {
                let real: Vec<&Value> = branches.iter().filter(|b| !is_null_schema(b)).collect();
                if real.is_empty() {
                    return Value::Null;
                }
                return self.value(real[0], key, depth + 1);
            }
        }
        if let Some(parts) = obj.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for part in parts {
                match self.value(part, key, depth + 1) {
                    Value::Object(map) => merged.extend(map),
                    other => return other,
                }
            }
            return Value::Object(merged);
        }
        let ty = obj.get("type").and_then(|t| match t {
            Value::String(s) => Some(s.as_str()),
            Value::Array(types) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null"),
            _ => None,
        });
        let ty = ty.unwrap_or(if obj.contains_key("properties") {
            "object"
        } else if obj.contains_key("items") || obj.contains_key("prefixItems") {
            "array"
        } else {
            ""
        });
        match ty {
            "object" => self.object(obj, depth),
            "array" => self.array(obj, key, depth),
            "string" => self.string(obj, key),
            "number" | "integer" => number(obj, key, ty == "integer"),
            "boolean" => Value::Bool(true),
            "null" => Value::Null,
            _ => underspecified(key),
        }
    }

    fn object(&self, obj: &Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        let properties = obj.get("properties").and_then(Value::as_object);
        if let Some(properties) = properties {
            for (name, schema) in properties {
                out.insert(name.clone(), self.value(schema, name, depth + 1));
            }
        }
        let extra = obj.get("additionalProperties");
        let user_keyed = match extra {
            Some(Value::Bool(false)) => false,
            Some(_) => true,
            None => properties.is_none_or(Map::is_empty),
        };
        if user_keyed {
            let value_schema = extra.cloned().unwrap_or(Value::Bool(true));
            for name in MAP_KEYS {
                out.insert(name.to_owned(), self.value(&value_schema, name, depth + 1));
            }
        }
        Value::Object(out)
    }

    fn array(&self, obj: &Map<String, Value>, key: &str, depth: usize) -> Value {
        let mut out = Vec::new();
        if let Some(prefix) = obj.get("prefixItems").and_then(Value::as_array) {
            for schema in prefix {
                out.push(self.value(schema, key, depth + 1));
            }
        }
        let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        if let Some(items) = obj
            .get("items")
            .filter(|i| !matches!(i, Value::Bool(false)))
        {
            while out.len() < min.max(1) {
                out.push(self.value(items, key, depth + 1));
            }
        }
        Value::Array(out)
    }

    fn string(&self, obj: &Map<String, Value>, key: &str) -> Value {
        let format = obj.get("format").and_then(Value::as_str);
        let lower = key.to_ascii_lowercase();
        let mut s = if format == Some("email") || lower.contains("email") {
            "ada@example.com".to_owned()
        } else if format == Some("uri") || lower == "url" || lower.ends_with("_url") {
            format!("{SELF_URL}/__fake/checkout/{}", self.path)
        } else if lower.ends_with("_at") || lower.ends_with("date") {
            "2026-01-01T00:00:00.000Z".to_owned()
        } else if lower == "currency" {
            "usd".to_owned()
        } else if key.is_empty() {
            "value".to_owned()
        } else {
            format!("fake_{key}")
        };
        let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        while s.chars().count() < min {
            s.push('x');
        }
        if let Some(max) = obj.get("maxLength").and_then(Value::as_u64) {
            s = s.chars().take(max as usize).collect();
        }
        Value::String(s)
    }
}

/// A value for an unconstrained schema (`{}`) under `key`.
///
/// A few fields are under-specified in the spec although autumn-js's parser expects a shape:
/// `tiers[].to` (`anyOf: [{}, {}]`, a number or `"inf"`) and the items of a tier's
/// `additional_currencies` (`anyOf: [{}, null]`, objects with a currency, an amount and a flat amount;
/// some request schemas leave those three unconstrained as well). Everything else is
/// free-form: an object whose own keys (one camelCase, one snake_case) a proxy must not touch.
fn underspecified(key: &str) -> Value {
    match key {
        "to" => json!(100),
        "additional_currencies" => json!({"currency": "eur", "amount": 7, "flat_amount": 7}),
        // (the fields of those items, where a request schema leaves them unconstrained too)
        "currency" => json!("eur"),
        "amount" | "flat_amount" => json!(7),
        _ => json!({"nestedCamelKey": "value", "nested_snake_key": 1}),
    }
}

fn number(obj: &Map<String, Value>, key: &str, integer: bool) -> Value {
    let lower = key.to_ascii_lowercase();
    let mut n: f64 = if lower.ends_with("_at") || lower.starts_with("period_") {
        1_767_225_600_000.0
    } else {
        7.0
    };
    if let Some(min) = obj.get("minimum").and_then(Value::as_f64) {
        n = n.max(min);
    }
    if let Some(min) = obj.get("exclusiveMinimum").and_then(Value::as_f64) {
        if n <= min {
            n = min + 1.0;
        }
    }
    if let Some(max) = obj.get("maximum").and_then(Value::as_f64) {
        n = n.min(max);
    }
    if let Some(max) = obj.get("exclusiveMaximum").and_then(Value::as_f64) {
        if n >= max {
            n = max - 1.0;
        }
    }
    if integer || n.fract() == 0.0 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// Every path of the spec, sorted.
pub fn spec_paths() -> Vec<String> {
    let mut paths: Vec<String> = spec().operations.keys().cloned().collect();
    paths.sort();
    paths
}

/// Checks `body` against the success response schema of `path`; returns the violations (used to
/// check the generator itself).
pub fn response_violations(path: &str, body: &Value) -> Vec<String> {
    let spec = spec();
    let Some(schema) = spec
        .operations
        .get(path)
        .and_then(|op| op.response.as_ref())
    else {
        return vec![format!("the spec has no response schema for {path}")];
    };
    let validator = match jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&standalone_schema(schema, &spec.root))
    {
        Ok(v) => v,
        Err(e) => {
            return vec![format!(
                "the response schema of {path} does not compile: {e}"
            )]
        }
    };
    validator
        .iter_errors(body)
        .map(|e| {
            format!(
                "{path}: body{} {} (schema path {})",
                e.instance_path(),
                e,
                e.schema_path()
            )
        })
        .collect()
}

/// Checks a request against its operation; returns the violations.
fn check_request(
    op: Option<&Operation>,
    method: &Method,
    path: &str,
    headers: &[(String, String)],
    raw: &[u8],
    body: Option<&Value>,
) -> Vec<String> {
    let mut out = Vec::new();
    let Some(op) = op else {
        out.push(format!("the spec has no path {path}"));
        return out;
    };
    if op.method != *method {
        out.push(format!("the spec has {} {path}, not {method}", op.method));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    match header("authorization") {
        Some(v) if v.starts_with("Bearer ") && v.len() > 7 => {}
        Some(_) => out.push("header authorization is not `Bearer <secret key>`".to_owned()),
        None => out.push("header authorization is missing".to_owned()),
    }
    if header("x-api-version").is_none_or(str::is_empty) {
        out.push("header x-api-version is missing (the spec requires it)".to_owned());
    }
    if !raw.is_empty()
        && !header("content-type").is_some_and(|ct| ct.starts_with("application/json"))
    {
        out.push("a body was sent without content-type application/json".to_owned());
    }
    match (body, raw.is_empty()) {
        (None, true) if op.request_required => {
            out.push("the request body is required but empty".to_owned());
        }
        (None, true) => {}
        (None, false) => out.push("the request body is not JSON".to_owned()),
        (Some(body), _) => match op.validator(&spec().root) {
            Err(e) if op.request.is_some() => out.push(e.to_owned()),
            Err(_) => out.push("the operation takes no request body".to_owned()),
            Ok(validator) => {
                for error in validator.iter_errors(body) {
                    out.push(format!(
                        "body{} {} (schema path {})",
                        error.instance_path(),
                        error,
                        error.schema_path()
                    ));
                }
            }
        },
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The server.

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        state.connections.fetch_add(1, Ordering::SeqCst);
        let _ = stream.set_nodelay(true);
        let kill = Arc::new(AtomicBool::new(false));
        let io = TokioIo::new(ResettableStream {
            inner: stream,
            reset_on_drop: kill.clone(),
        });
        let state = state.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req| handle(req, state.clone(), kill.clone()));
            // Errors here are the faults we inject, or clients going away.
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(io, service)
                .await;
        });
    }
}

/// A TCP stream that is closed with a reset (RST, `SO_LINGER` 0) instead of a FIN when dropped
/// after a fault asked for it.
struct ResettableStream {
    inner: TcpStream,
    reset_on_drop: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset_on_drop.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The fake's response body: in full (with a `content-length`, or chunked), or cut off after a first
/// part.
enum FakeBody {
    Full(Option<Bytes>),
    /// In full, without a declared length.
    Chunked(Option<Bytes>),
    /// The first part, then (after a pause that lets it reach the client) an error that makes
    /// hyper drop the connection, which the stream turns into a reset if the fault asked for one.
    Truncated {
        first: Option<Bytes>,
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
        total: u64,
    },
}

impl Body for FakeBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            FakeBody::Full(data) | FakeBody::Chunked(data) => {
                Poll::Ready(data.take().map(|d| Ok(Frame::data(d))))
            }
            FakeBody::Truncated { first, pause, .. } => {
                if let Some(data) = first.take() {
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                if let Some(sleep) = pause {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *pause = None;
                }
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "fake autumn: scripted end in the middle of the body",
                ))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, FakeBody::Full(None) | FakeBody::Chunked(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            FakeBody::Full(data) => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            FakeBody::Chunked(_) => SizeHint::default(),
            FakeBody::Truncated { total, .. } => SizeHint::with_exact(*total),
        }
    }
}

fn json_response(status: u16, body: &Value) -> Response<FakeBody> {
    text_response(status, "application/json", body.to_string())
}

fn text_response(status: u16, content_type: &str, body: String) -> Response<FakeBody> {
    let mut response = Response::new(FakeBody::Full(Some(Bytes::from(body))));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    response
}

/// The error the fake answers for requests outside the spec, shaped like Autumn's errors.
fn not_found(message: String) -> Response<FakeBody> {
    json_response(404, &json!({"message": message, "code": "not_found"}))
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
    kill: Arc<AtomicBool>,
) -> Result<Response<FakeBody>, io::Error> {
    let (parts, body) = req.into_parts();
    let raw = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return Err(io::Error::other(e)),
    };
    let path = parts.uri.path().to_owned();
    if let Some(control) = path.strip_prefix("/__fake/") {
        return Ok(control_request(&parts.method, control, &raw, &state));
    }

    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let json_body: Option<Value> = serde_json::from_slice(&raw).ok();
    let spec = spec();
    let op = spec.operations.get(&path);
    let violations = check_request(op, &parts.method, &path, &headers, &raw, json_body.as_ref());
    state.requests.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        raw_body: String::from_utf8_lossy(&raw).into_owned(),
        body: json_body,
        violations,
    });

    let fault = {
        let mut scripts = state.scripts.lock().unwrap();
        let key = if scripts.contains_key(&path) {
            Some(path.clone())
        } else if scripts.contains_key("*") {
            Some("*".to_owned())
        } else {
            None
        };
        key.and_then(|key| {
            // An exhausted path script gives way to a `*` one (e.g. a first page, then the last).
            let key = match scripts.get(&key) {
                Some((_, Some(0))) if key != "*" && scripts.contains_key("*") => "*".to_owned(),
                _ => key,
            };
            let (fault, remaining) = scripts.get_mut(&key)?;
            let fault = fault.clone();
            match remaining {
                Some(0) => None,
                Some(n) => {
                    *n -= 1;
                    Some(fault)
                }
                None => Some(fault),
            }
        })
    };
    let normal = || -> Option<(u16, String)> {
        let op = op?;
        let body = generated_response(&path)?.replace(SELF_URL, &state.base_url);
        Some((op.status, body))
    };
    let answer_normally = || match normal() {
        Some((status, body)) => text_response(status, "application/json", body),
        None => not_found(format!("no such path: {path}")),
    };
    match fault.unwrap_or(Fault::Ok) {
        Fault::Ok => Ok(answer_normally()),
        Fault::Status { status, body } => Ok(json_response(status, &body)),
        Fault::Raw {
            status,
            body,
            content_type,
        } => {
            let mut response = text_response(status, "text/html", body);
            match content_type {
                Some(ct) => {
                    response.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_str(&ct)
                            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
                    );
                }
                None => {
                    response.headers_mut().remove(header::CONTENT_TYPE);
                }
            }
            Ok(response)
        }
        Fault::Mislabelled { content_type } => {
            let mut response = answer_normally();
            if let Ok(ct) = HeaderValue::from_str(&content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            Ok(response)
        }
        Fault::RateLimited { retry_after } => {
            let mut response = text_response(429, "application/json", RATE_LIMITED_BODY.to_owned());
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            Ok(response)
        }
        Fault::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(answer_normally())
        }
        Fault::Hang => std::future::pending().await,
        Fault::Reset => {
            kill.store(true, Ordering::SeqCst);
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "fake autumn: scripted reset",
            ))
        }
        // An error from the service makes hyper drop the connection: a FIN, as nothing asked for a reset.
        Fault::Close => Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "fake autumn: scripted close",
        )),
        fault @ (Fault::ResetMidBody | Fault::CutShort) => {
            let (status, body) =
                normal().unwrap_or((200, json!({"padding": "x".repeat(64)}).to_string()));
            let bytes = Bytes::from(body);
            let (first, total) = if fault == Fault::ResetMidBody {
                kill.store(true, Ordering::SeqCst);
                (bytes.slice(..bytes.len() / 2), bytes.len() as u64)
            } else {
                let total = bytes.len() as u64 + 500;
                (bytes, total)
            };
            let mut response = Response::new(FakeBody::Truncated {
                first: Some(first),
                pause: Some(Box::pin(tokio::time::sleep(Duration::from_millis(50)))),
                total,
            });
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
        Fault::Huge { bytes, chunked } => {
            let filler = Bytes::from(Fault::filler(bytes));
            let mut response = Response::new(if chunked {
                FakeBody::Chunked(Some(filler))
            } else {
                FakeBody::Full(Some(filler))
            });
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
    }
}

/// The HTTP control API under `/__fake/`.
fn control_request(method: &Method, what: &str, raw: &[u8], state: &State) -> Response<FakeBody> {
    match (method.as_str(), what) {
        ("GET", "requests") => {
            let requests = state.requests.lock().unwrap().clone();
            json_response(200, &serde_json::to_value(requests).expect("serialize requests"))
        }
        ("GET", "violations") => {
            let violations = violations_of(&state.requests.lock().unwrap());
            json_response(200, &json!(violations))
        }
        ("GET", "connections") => json_response(
            200,
            &json!({"connections": state.connections.load(Ordering::SeqCst)}),
        ),
        ("POST", "reset") => {
            state.requests.lock().unwrap().clear();
            state.scripts.lock().unwrap().clear();
            state.connections.store(0, Ordering::SeqCst);
            json_response(200, &json!({"ok": true}))
        }
        ("POST", "script") => {
            #[derive(Deserialize)]
            struct Script {
                path: String,
                fault: Fault,
                /// How many requests the fault applies to; absent: all until the next reset.
                #[serde(default)]
                times: Option<usize>,
            }
            match serde_json::from_slice::<Script>(raw) {
                Ok(script) => {
                    state
                        .scripts
                        .lock()
                        .unwrap()
                        .insert(script.path, (script.fault, script.times));
                    json_response(200, &json!({"ok": true}))
                }
                Err(e) => json_response(400, &json!({"message": e.to_string(), "code": "bad_script"})),
            }
        }
        ("GET", page) if page.starts_with("checkout") => text_response(
            200,
            "text/html; charset=utf-8",
            format!(
                "<!doctype html><title>Fake checkout</title><h1 id=\"fake-checkout\">Fake checkout</h1><p>{}</p>",
                page.trim_start_matches("checkout/")
            ),
        ),
        _ => not_found(format!("no such control: {method} /__fake/{what}")),
    }
}
