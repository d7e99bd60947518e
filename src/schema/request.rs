//! The strict request side: the browser's camelCase body to the upstream's snake_case body.
//!
//! Mirrors the SDK's request validation: every known field must have exactly its type (integers
//! must be whole, enums must use a known value), unknown keys are dropped and defaults are filled.

use serde_json::{Map, Value};

use super::{count_leaves, node, union_better, Candidate, Fail, Field, Node, Seg, MAX_DEPTH};

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// Converts an object's known fields; `skip` names fields (in the upstream's spelling) that are left
/// out unread, whatever the browser sent in them and even when the schema requires them.
pub(super) fn object(
    fields: &'static [Field],
    mut input: Map<String, Value>,
    depth: u32,
    skip: &[&str],
) -> Result<Map<String, Value>, Fail> {
    let mut out = Map::with_capacity(fields.len().min(input.len() + 4));
    for f in fields {
        if skip.contains(&f.snake) {
            continue;
        }
        match input.remove_entry(f.camel) {
            None => {
                if let Some(d) = f.default.to_value() {
                    out.insert(f.snake.to_owned(), d);
                } else if f.required && !matches!(node(f.node), Node::Any) {
                    return Err(Fail::new("is required").at(Seg::Field(f.camel)));
                }
            }
            Some((key, v)) => {
                let v = match v {
                    Value::Null if f.nullable => Value::Null,
                    v => convert(f.node, v, depth + 1).map_err(|e| e.at(Seg::Field(f.camel)))?,
                };
                out.insert(wire_key(key, f.camel, f.snake), v);
            }
        }
    }
    Ok(out)
}

/// The output key: the input's own `String` when the name does not change (`id`, `metadata`),
/// saving an allocation, else the table's name.
pub(super) fn wire_key(key: String, from: &'static str, to: &'static str) -> String {
    if from == to {
        key
    } else {
        to.to_owned()
    }
}

/// Whether a value of this JSON kind can possibly satisfy the node (used to skip union members).
fn may_accept(n: u16, v: &Value, depth: u32) -> bool {
    match (node(n), v) {
        (Node::Any, _) => true,
        (Node::Null, Value::Null) => true,
        (Node::Str | Node::Enum(_) | Node::Const(_), Value::String(_)) => true,
        (Node::Num | Node::Int, Value::Number(_)) => true,
        (Node::Bool, Value::Bool(_)) => true,
        (Node::Array(_), Value::Array(_)) => true,
        (Node::Record(_) | Node::Object(_), Value::Object(_)) => true,
        (Node::Union(members), _) => {
            depth < MAX_DEPTH && members.iter().any(|&m| may_accept(m, v, depth + 1))
        }
        _ => false,
    }
}

pub(super) fn convert(n: u16, v: Value, depth: u32) -> Result<Value, Fail> {
    if depth > MAX_DEPTH {
        return Err(Fail::new("is nested too deeply"));
    }
    match node(n) {
        Node::Any => Ok(v),
        Node::Null => match v {
            Value::Null => Ok(v),
            _ => Err(Fail::new("expected null")),
        },
        Node::Str => match v {
            Value::String(_) => Ok(v),
            _ => Err(Fail::new("expected a string")),
        },
        Node::Num => match v {
            Value::Number(n) => Ok(super::js_number_value(n)),
            _ => Err(Fail::new("expected a number")),
        },
        Node::Int => match v {
            Value::Number(ref num) => {
                if let Some(i) = num.as_i64() {
                    if (i as f64).abs() <= MAX_SAFE {
                        return Ok(v);
                    }
                } else if let Some(f) = num.as_f64() {
                    if f.fract() == 0.0 && f.abs() <= MAX_SAFE {
                        // A whole number written with a fraction (`3.0`) is the integer 3
                        // (and `-0.0` is 0), as JavaScript writes them.
                        return Ok(Value::from(f as i64));
                    }
                }
                Err(Fail::new("expected an integer"))
            }
            _ => Err(Fail::new("expected an integer")),
        },
        Node::Bool => match v {
            Value::Bool(_) => Ok(v),
            _ => Err(Fail::new("expected a boolean")),
        },
        Node::Enum(values) => match v {
            Value::String(ref s) if values.contains(&s.as_str()) => Ok(v),
            _ => Err(Fail::one_of(values)),
        },
        Node::Const(c) => match v {
            Value::String(ref s) if s == c => Ok(v),
            _ => Err(Fail::one_of(&[c])),
        },
        Node::Array(item) => match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.into_iter().enumerate() {
                    out.push(convert(*item, it, depth + 1).map_err(|e| e.at(Seg::Index(i)))?);
                }
                Ok(Value::Array(out))
            }
            _ => Err(Fail::new("expected an array")),
        },
        Node::Record(val) => match v {
            Value::Object(m) => {
                if matches!(node(*val), Node::Any) {
                    return Ok(Value::Object(m));
                }
                let mut out = Map::with_capacity(m.len());
                for (k, it) in m {
                    match convert(*val, it, depth + 1) {
                        Ok(it) => {
                            out.insert(k, it);
                        }
                        Err(e) => return Err(e.at(Seg::Key(k))),
                    }
                }
                Ok(Value::Object(out))
            }
            _ => Err(Fail::new("expected an object")),
        },
        Node::Object(fields) => match v {
            Value::Object(m) => object(fields, m, depth, &[]).map(Value::Object),
            _ => Err(Fail::new("expected an object")),
        },
        Node::Union(members) => union(members, v, depth),
    }
}

fn union(members: &'static [u16], v: Value, depth: u32) -> Result<Value, Fail> {
    let mut fits = members
        .iter()
        .copied()
        .filter(|&m| may_accept(m, &v, depth + 1));
    let Some(first) = fits.next() else {
        return Err(Fail::new("does not match any allowed shape"));
    };
    let Some(second) = fits.next() else {
        // Only one member can take a value of this kind: convert it in place. Like the SDK, a
        // union that fails is reported at its own path, unless it only adds `null` to one shape.
        let nullable = members.len() == 2 && members.iter().any(|&m| matches!(node(m), Node::Null));
        return convert(first, v, depth + 1).map_err(|e| {
            if nullable {
                e
            } else {
                Fail::new("does not match any allowed shape")
            }
        });
    };
    // Several members might: try each on a copy and keep the best, as the SDK does.
    let mut best: Option<Candidate> = None;
    for m in [first, second].into_iter().chain(fits) {
        if let Ok(out) = convert(m, v.clone(), depth + 1) {
            let c = Candidate {
                fields: count_leaves(&out),
                value: Some(out),
                inexact: 0,
                zero: 0,
            };
            match &best {
                Some(b) if !union_better(&c, b) => {}
                _ => best = Some(c),
            }
        }
    }
    match best.and_then(|c| c.value) {
        Some(v) => Ok(v),
        None => Err(Fail::new("does not match any allowed shape")),
    }
}
