//! Schema-driven body conversion between the browser's camelCase JSON and the Autumn API's
//! snake_case wire JSON, reproducing what autumn-js 1.3.13's backend does.
//!
//! autumn-js hands every browser body to its bundled API SDK, which validates it against the
//! operation's request schema and renames the known fields; the SDK then parses Autumn's answer
//! with a lenient response schema and renames the fields back. This module does the same from
//! static tables generated out of the API spec (`tables.rs`, written by `tools/gen_schema.py`,
//! with overrides where the SDK's API 2.4.0 differs from the committed 2.3.0 spec):
//!
//! * the request side ([`request_to_upstream`]) is strict, like the SDK: known fields are renamed
//!   to snake_case, unknown keys are dropped (a snake_case twin such as `plan_id` is unknown),
//!   defaults are filled, integers must be whole, enums must use a known value (the SDK's request
//!   enums are closed), `null` is accepted only where the schema says nullable, and anything else
//!   is an error naming the camelCase path of the field;
//! * the response side ([`response_to_browser`]) is lenient like the SDK's parser: known fields are
//!   renamed to camelCase, unknown keys are dropped, optional fields that arrived as `null` are
//!   removed (fields declared nullable keep it), a `null` scalar becomes its zero value (`""`,
//!   `0`, `false`), numeric strings become numbers, `"true"`/`"false"` become booleans, other
//!   values where a string belongs become their JSON text, unknown enum values pass, defaults are
//!   filled; what the SDK rejects (a missing required field, an object where an array belongs, a
//!   boolean where a number belongs) is an error.
//! * Unions are resolved as the SDK does: every shape that accepts the value is tried and the best
//!   fit wins (an exact match over a coerced one, then the most real leaf values).
//!
//! The contents of user-data maps (`metadata`, `checkoutSessionParams`, `properties`, ...) keep
//! their keys byte for byte; where such a map's values have a known schema (balances, flags), the
//! values are converted. Values are moved, never cloned, except where a union has several
//! candidate shapes and each must be tried.
//!
//! Known differences from autumn-js, all invisible to JSON parsers: free-form values keep the
//! number spelling they arrived with (`1.0`, `-0.0`, integers beyond 2^53 exactly), where
//! JavaScript would re-spell or round them; JSON text written for a non-string value where a
//! string belongs lists object keys in sorted order, not insertion order.

use serde_json::{Map, Value};

mod request;
mod response;
mod stream;
mod tables;
#[cfg(test)]
mod tests;

pub(crate) use self::tables::Op;

impl Op {
    fn index(self) -> usize {
        self as usize
    }

    /// The API path of the operation.
    pub(crate) fn path(self) -> &'static str {
        self.info().path
    }
}

/// A field that does not fit its schema.
///
/// On the request side `path` is the camelCase path the browser used (`featureQuantities[0].quantity`);
/// on the response side it is the snake_case path in Autumn's answer (`balances.messages.granted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// One node of a schema tree. Nodes refer to each other by index into [`tables::NODES`].
#[derive(Debug)]
pub(super) enum Node {
    /// Any JSON value, passed through untouched.
    Any,
    /// Only `null` (a member of a union: a nullable array item or record value). The current
    /// tables have none; the generator emits it when the spec has such a schema.
    #[allow(dead_code)]
    Null,
    Str,
    Num,
    /// A number without a fractional part.
    Int,
    Bool,
    /// A string from a known set.
    Enum(&'static [&'static str]),
    /// Exactly this string.
    Const(&'static str),
    Array(u16),
    /// A map with user-chosen keys (never renamed) whose values have the given schema.
    Record(u16),
    Object(&'static [Field]),
    /// One of several shapes; the best fitting one wins (see `union_better`).
    Union(&'static [u16]),
}

/// A known field of an object node.
#[derive(Debug)]
pub(super) struct Field {
    pub(super) camel: &'static str,
    /// `,"camel":`, as the streaming conversion writes the name (without the comma for an object's
    /// first member).
    pub(super) key: &'static str,
    pub(super) snake: &'static str,
    pub(super) node: u16,
    pub(super) default: Def,
    pub(super) required: bool,
    pub(super) nullable: bool,
}

impl Field {
    /// Whether an answer's `null` for this field drops the field: it is optional, has no default
    /// and may not be null (the SDK's response parser leaves it out).
    pub(super) fn drops_null(&self) -> bool {
        !self.nullable && !self.required && self.default.is_none()
    }
}

/// A field's default value, as it appears on the wire.
#[derive(Debug)]
pub(super) enum Def {
    None,
    Bool(bool),
    Int(i64),
    // The current spec has no fractional or structured defaults; the generator still emits them
    // if a later spec does.
    #[allow(dead_code)]
    Float(f64),
    Str(&'static str),
    /// Any other JSON value, as JSON text.
    #[allow(dead_code)]
    Json(&'static str),
}

impl Def {
    fn is_none(&self) -> bool {
        matches!(self, Def::None)
    }

    pub(super) fn to_value(&self) -> Option<Value> {
        Some(match *self {
            Def::None => return None,
            Def::Bool(b) => Value::Bool(b),
            Def::Int(i) => Value::from(i),
            Def::Float(f) => Value::from(f),
            Def::Str(s) => Value::String(s.to_owned()),
            Def::Json(s) => serde_json::from_str(s).ok()?,
        })
    }
}

fn node(i: u16) -> &'static Node {
    // The generator only emits indices into the table; a bad index is a generator bug that the
    // table test catches. Fall back to `Any` rather than panic.
    tables::NODES.get(usize::from(i)).unwrap_or(&Node::Any)
}

/// Deepest schema nesting followed; anything deeper is refused (the schemas are far shallower).
const MAX_DEPTH: u32 = 64;

/// Deepest input accepted at all. The service already refuses bodies nested more than 128
/// levels; this guard makes the module safe on its own: beyond it, values are taken apart
/// without recursion and refused, so that neither our code nor serde_json's recursive clone
/// and drop can exhaust the stack.
const MAX_INPUT_DEPTH: usize = 512;

/// Whether a value nests deeper than [`MAX_INPUT_DEPTH`], found without recursion.
fn too_deep(v: &Value) -> bool {
    let mut stack: Vec<(&Value, usize)> = Vec::new();
    let mut cur = (v, 0usize);
    loop {
        let (v, d) = cur;
        match v {
            Value::Array(a) if !a.is_empty() => {
                if d >= MAX_INPUT_DEPTH {
                    return true;
                }
                stack.extend(a.iter().map(|c| (c, d + 1)));
            }
            Value::Object(m) if !m.is_empty() => {
                if d >= MAX_INPUT_DEPTH {
                    return true;
                }
                stack.extend(m.values().map(|c| (c, d + 1)));
            }
            _ => {}
        }
        match stack.pop() {
            Some(next) => cur = next,
            None => return false,
        }
    }
}

/// Drops a value without recursion.
fn discard(v: Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => stack.extend(m.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

fn too_deep_error() -> FieldError {
    FieldError {
        path: "(body)".to_owned(),
        message: "is nested too deeply".to_owned(),
    }
}

/// A step of a path, collected while an error unwinds (nothing is built on the happy path).
#[derive(Debug)]
enum Seg {
    Field(&'static str),
    Index(usize),
    Key(String),
}

/// A conversion failure on its way up; `segs` is in reverse order (innermost first).
#[derive(Debug)]
struct Fail {
    segs: Vec<Seg>,
    message: std::borrow::Cow<'static, str>,
}

impl Fail {
    fn new(message: &'static str) -> Self {
        Fail {
            segs: Vec::new(),
            message: std::borrow::Cow::Borrowed(message),
        }
    }

    /// "expected one of "a", "b"": names the allowed values of an enum (built only on failure).
    fn one_of(values: &[&str]) -> Self {
        let mut message = String::from("expected one of ");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                message.push_str(", ");
            }
            message.push_str(&Value::String((*v).to_owned()).to_string());
        }
        Fail {
            segs: Vec::new(),
            message: std::borrow::Cow::Owned(message),
        }
    }

    fn at(mut self, seg: Seg) -> Self {
        self.segs.push(seg);
        self
    }

    fn into_field_error(self) -> FieldError {
        let mut path = String::new();
        for seg in self.segs.iter().rev() {
            match seg {
                Seg::Field(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                }
                Seg::Index(i) => {
                    path.push('[');
                    path.push_str(&i.to_string());
                    path.push(']');
                }
                Seg::Key(k) => {
                    let plain = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if plain {
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(k);
                    } else {
                        path.push('[');
                        path.push_str(&Value::String(k.clone()).to_string());
                        path.push(']');
                    }
                }
            }
        }
        if path.is_empty() {
            path.push_str("(body)");
        }
        FieldError {
            path,
            message: self.message.into_owned(),
        }
    }
}

/// A number as JavaScript writes it: a float without a fractional part (`1000.0`, `1e3`, `-0.0`)
/// becomes the integer, so the JSON we send matches autumn-js's byte for byte. Integers and
/// fractional numbers are kept as they are.
fn js_number_value(n: serde_json::Number) -> Value {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
            Value::from(f as i64)
        }
        _ => Value::Number(n),
    }
}

/// Counts leaf values (`null`, numbers, strings, booleans) the way the SDK's union resolution
/// does, without recursion.
fn count_leaves(v: &Value) -> usize {
    let mut n = 0;
    let mut stack: Vec<&Value> = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(m) => stack.extend(m.values()),
            _ => n += 1,
        }
    }
    n
}

/// A successful candidate of a union: its output and how loosely it matched.
struct Candidate {
    value: Option<Value>,
    /// Values the lenient parser had to coerce (unknown enum values, numeric strings, ...).
    inexact: u32,
    /// Values filled with a zero value because they were missing or `null`.
    zero: u32,
    fields: usize,
}

/// The SDK's rule for choosing among union members that all accept a value: an exact match beats
/// a coerced one, then more real (non-zero-filled) leaf values, then fewer coercions; on a tie the
/// earlier member wins.
fn union_better(a: &Candidate, best: &Candidate) -> bool {
    let (ae, be) = (a.inexact == 0, best.inexact == 0);
    if ae != be {
        return ae;
    }
    let af = a.fields as i64 - i64::from(a.zero);
    let bf = best.fields as i64 - i64::from(best.zero);
    if af != bf {
        return af > bf;
    }
    a.inexact < best.inexact
}

/// Converts the browser's camelCase body for `op` to the upstream's wire body, as autumn-js's SDK does.
#[cfg(test)]
pub(crate) fn request_to_upstream(
    op: Op,
    body: Map<String, Value>,
) -> Result<Map<String, Value>, FieldError> {
    request_to_upstream_except(op, body, &[])
}

/// [`request_to_upstream`] with the top-level fields named in `protected` (upstream spelling) left out,
/// unread: whatever the browser put there is neither converted nor checked nor sent, in any spelling.
pub(crate) fn request_to_upstream_except(
    op: Op,
    mut body: Map<String, Value>,
    protected: &[&str],
) -> Result<Map<String, Value>, FieldError> {
    let root = tables::REQUEST_ROOTS[op.index()];
    if let Node::Object(fields) = node(root) {
        for f in fields.iter().filter(|f| protected.contains(&f.snake)) {
            body.remove(f.camel);
        }
    }
    if body.values().any(too_deep) {
        discard(Value::Object(body));
        return Err(too_deep_error());
    }
    if op == Op::CustomersGetOrCreate && body.get("expand").is_some_and(|e| !e.is_array()) {
        // autumn-js replaces an `expand` that is not an array (the service then adds the one item
        // autumn-js always asks for), so such a value is no error.
        body.remove("expand");
    }
    let out = match node(root) {
        Node::Object(fields) => request::object(fields, body, 0, protected),
        _ => request::convert(root, Value::Object(body), 0).map(|v| match v {
            Value::Object(mut m) => {
                for key in protected {
                    m.remove(*key);
                }
                m
            }
            _ => Map::new(),
        }),
    };
    out.map_err(Fail::into_field_error)
}

/// Converts Autumn's 2xx JSON answer for `op` to what autumn-js's backend sends to the browser.
///
/// Errs when autumn-js's response parser would reject the body.
pub(crate) fn response_to_browser(op: Op, body: Value) -> Result<Value, FieldError> {
    if too_deep(&body) {
        discard(body);
        return Err(too_deep_error());
    }
    let root = tables::RESPONSE_ROOTS[op.index()];
    let mut ctx = response::Ctx::default();
    match response::convert(root, Some(body), &mut ctx, 0) {
        Ok(Some(v)) => Ok(v),
        // Only a free-form root could yield nothing, and a body is never absent.
        Ok(None) => Ok(Value::Null),
        Err(f) => Err(f.into_field_error()),
    }
}

/// Why Autumn's answer could not be converted.
#[derive(Debug)]
pub(crate) enum ResponseError {
    /// The body is not JSON.
    NotJson,
    /// The body does not fit the operation's response schema.
    Schema(FieldError),
}

/// [`response_to_browser`] from and to bytes, in one streaming pass when the answer fits its
/// schema (see `stream/`); the tree path decides everything else, so the answer and any error
/// are the same as parsing the bytes and calling [`response_to_browser`].
pub(crate) fn response_bytes_to_browser(op: Op, body: &[u8]) -> Result<Vec<u8>, ResponseError> {
    let root = tables::RESPONSE_ROOTS[op.index()];
    if let Some(out) = stream::convert(root, body) {
        return Ok(out);
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| ResponseError::NotJson)?;
    let out = response_to_browser(op, value).map_err(ResponseError::Schema)?;
    serde_json::to_vec(&out).map_err(|e| {
        ResponseError::Schema(FieldError {
            path: "(body)".to_owned(),
            message: e.to_string(),
        })
    })
}
