//! The lenient response side: Autumn's snake_case answer to the browser's camelCase body.
//!
//! Mirrors the SDK's forgiving response parser: a missing or `null` scalar becomes its zero
//! value (`""`, `0`, `false`), a numeric string becomes a number, `"true"`/`"false"` become
//! booleans, any non-string where a string belongs becomes its JSON text, an unknown enum value
//! passes; only what cannot be coerced (an object where an array belongs, a boolean where a number
//! belongs, a missing object) is an error. `None` stands for an absent value (JavaScript's
//! `undefined`).

use serde_json::{Map, Number, Value};

use super::{count_leaves, node, union_better, Candidate, Fail, Field, Node, Seg, MAX_DEPTH};

/// How loosely the current subtree matched, for choosing among union members.
#[derive(Default, Debug)]
pub(super) struct Ctx {
    pub(super) inexact: u32,
    pub(super) zero: u32,
}

fn object(
    fields: &'static [Field],
    input: Map<String, Value>,
    ctx: &mut Ctx,
    depth: u32,
) -> Result<Map<String, Value>, Fail> {
    let mut out = Map::with_capacity(input.len().min(fields.len()));
    // Walk the answer's own keys (consuming the map, no lookups), then see to the fields it
    // lacks. The generator keeps objects at 128 fields or fewer.
    let mut seen: u128 = 0;
    for (key, v) in input {
        let Some(i) = fields.iter().position(|f| f.snake == key) else {
            continue; // unknown keys are dropped
        };
        seen |= 1u128.checked_shl(i as u32).unwrap_or(0);
        let f = &fields[i];
        let v = match v {
            Value::Null if f.nullable => Some(Value::Null),
            Value::Null if f.drops_null() => {
                // An optional field that arrived as `null` is dropped.
                ctx.inexact += 1;
                None
            }
            v => field_value(f, Some(v), ctx, depth)?,
        };
        if let Some(v) = v {
            out.insert(super::request::wire_key(key, f.snake, f.camel), v);
        }
    }
    for (i, f) in fields.iter().enumerate() {
        if seen & 1u128.checked_shl(i as u32).unwrap_or(0) != 0 {
            continue;
        }
        // A missing field takes its default, is left out when optional, and is an error
        // otherwise (even when it may be null: the SDK wants the key).
        if let Some(d) = f.default.to_value() {
            out.insert(f.camel.to_owned(), d);
        } else if f.required && !matches!(node(f.node), Node::Any) {
            return Err(Fail::new("is required").at(Seg::Field(f.snake)));
        }
    }
    Ok(out)
}

fn field_value(
    f: &Field,
    v: Option<Value>,
    ctx: &mut Ctx,
    depth: u32,
) -> Result<Option<Value>, Fail> {
    convert(f.node, v, ctx, depth + 1).map_err(|e| e.at(Seg::Field(f.snake)))
}

/// Whether the value can possibly satisfy the node (used to skip union members cheaply).
fn may_accept(n: u16, v: Option<&Value>, depth: u32) -> bool {
    match (node(n), v) {
        (Node::Any | Node::Str, _) => true,
        (Node::Null, Some(Value::Null)) => true,
        (Node::Num | Node::Int, None | Some(Value::Null | Value::Number(_) | Value::String(_))) => {
            true
        }
        (Node::Bool, None | Some(Value::Null | Value::Bool(_) | Value::String(_))) => true,
        (Node::Enum(_), Some(Value::String(_))) => true,
        (Node::Const(c), Some(Value::String(s))) => s == c,
        (Node::Const(_), None | Some(Value::Null)) => true,
        (Node::Array(_), Some(Value::Array(_))) => true,
        (Node::Record(_) | Node::Object(_), Some(Value::Object(_))) => true,
        (Node::Union(members), _) => {
            depth < MAX_DEPTH && members.iter().any(|&m| may_accept(m, v, depth + 1))
        }
        _ => false,
    }
}

/// JavaScript's `Number(string)` for the strings it accepts; `None` where it gives `NaN`.
/// `Infinity` serializes as `null` in JSON, as JavaScript's `JSON.stringify` does.
pub(super) fn js_number(s: &str) -> Option<Value> {
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if t.is_empty() {
        return Some(Value::from(0));
    }
    let (radix, digits) = match t.get(..2) {
        Some("0x" | "0X") => (16, &t[2..]),
        Some("0o" | "0O") => (8, &t[2..]),
        Some("0b" | "0B") => (2, &t[2..]),
        _ => (10, t),
    };
    if radix != 10 {
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        let mut acc = 0f64;
        for c in digits.chars() {
            acc = acc * f64::from(radix) + f64::from(c.to_digit(radix)?);
        }
        return Some(num_value(acc));
    }
    match t {
        "Infinity" | "+Infinity" | "-Infinity" => return Some(Value::Null),
        _ => {}
    }
    // JavaScript's decimal literal: optional sign, digits with an optional fraction, optional
    // exponent. Rust's parser also takes "inf"/"nan" and similar words, which JavaScript does not.
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let ok = !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && body.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if !ok {
        return None;
    }
    let f: f64 = t.parse().ok()?;
    if f.is_infinite() {
        return Some(Value::Null);
    }
    Some(num_value(f))
}

/// JSON text of a value as JavaScript's `JSON.stringify` writes it: whole numbers without a
/// fraction (`2`, not `2.0`). (Object keys come out in the map's order.) Refuses values nested
/// deeper than the schema depth limit rather than recurse without bound.
pub(super) fn js_json(v: &Value, out: &mut String, depth: u32) -> Result<(), Fail> {
    if depth > MAX_DEPTH {
        return Err(Fail::new("is nested too deeply"));
    }
    match v {
        Value::Number(n) => out.push_str(&super::js_number_value(n.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                js_json(it, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, it)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                js_json(it, out, depth + 1)?;
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
    Ok(())
}

/// A number parsed from a string, as JSON.
fn num_value(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, super::js_number_value)
}

pub(super) fn convert(
    n: u16,
    v: Option<Value>,
    ctx: &mut Ctx,
    depth: u32,
) -> Result<Option<Value>, Fail> {
    if depth > MAX_DEPTH {
        return Err(Fail::new("is nested too deeply"));
    }
    let v = match node(n) {
        Node::Any => v,
        Node::Null => match v {
            Some(Value::Null) => v,
            _ => return Err(Fail::new("expected null")),
        },
        Node::Str => match v {
            Some(Value::String(_)) => v,
            None | Some(Value::Null) => {
                ctx.zero += 1;
                ctx.inexact += 1;
                Some(Value::String(String::new()))
            }
            Some(other) => {
                // Anything else becomes its JSON text, numbers written as JavaScript does.
                ctx.inexact += 1;
                let mut text = String::new();
                js_json(&other, &mut text, depth)?;
                Some(Value::String(text))
            }
        },
        Node::Num | Node::Int => match v {
            Some(Value::Number(n)) => Some(super::js_number_value(n)),
            Some(Value::String(s)) => match js_number(&s) {
                Some(num) => {
                    ctx.inexact += 1;
                    Some(num)
                }
                None => return Err(Fail::new("expected a number")),
            },
            None | Some(Value::Null) => {
                ctx.zero += 1;
                ctx.inexact += 1;
                Some(Value::from(0))
            }
            Some(_) => return Err(Fail::new("expected a number")),
        },
        Node::Bool => match v {
            Some(Value::Bool(_)) => v,
            Some(Value::String(s)) => {
                let b = if s.eq_ignore_ascii_case("true") {
                    true
                } else if s.eq_ignore_ascii_case("false") {
                    false
                } else {
                    return Err(Fail::new("expected a boolean"));
                };
                ctx.inexact += 1;
                Some(Value::Bool(b))
            }
            None | Some(Value::Null) => {
                ctx.zero += 1;
                ctx.inexact += 1;
                Some(Value::Bool(false))
            }
            Some(_) => return Err(Fail::new("expected a boolean")),
        },
        Node::Enum(values) => match v {
            Some(Value::String(ref s)) => {
                if !values.contains(&s.as_str()) {
                    ctx.inexact += 1;
                }
                v
            }
            _ => return Err(Fail::new("expected a string")),
        },
        Node::Const(c) => match v {
            Some(Value::String(ref s)) if s == c => v,
            None | Some(Value::Null) => {
                ctx.zero += 1;
                ctx.inexact += 1;
                Some(Value::String((*c).to_owned()))
            }
            _ => return Err(Fail::one_of(&[c])),
        },
        Node::Array(item) => match v {
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.into_iter().enumerate() {
                    match convert(*item, Some(it), ctx, depth + 1) {
                        // An array element that comes out absent is JSON `null`.
                        Ok(it) => out.push(it.unwrap_or(Value::Null)),
                        Err(e) => return Err(e.at(Seg::Index(i))),
                    }
                }
                Some(Value::Array(out))
            }
            _ => return Err(Fail::new("expected an array")),
        },
        Node::Record(val) => match v {
            Some(Value::Object(m)) => {
                if matches!(node(*val), Node::Any) {
                    return Ok(Some(Value::Object(m)));
                }
                let mut out = Map::with_capacity(m.len());
                for (k, it) in m {
                    match convert(*val, Some(it), ctx, depth + 1) {
                        Ok(Some(it)) => {
                            out.insert(k, it);
                        }
                        Ok(None) => {}
                        Err(e) => return Err(e.at(Seg::Key(k))),
                    }
                }
                Some(Value::Object(out))
            }
            _ => return Err(Fail::new("expected an object")),
        },
        Node::Object(fields) => match v {
            Some(Value::Object(m)) => Some(Value::Object(object(fields, m, ctx, depth)?)),
            _ => return Err(Fail::new("expected an object")),
        },
        Node::Union(members) => return union(members, v, ctx, depth),
    };
    Ok(v)
}

fn union(
    members: &'static [u16],
    v: Option<Value>,
    ctx: &mut Ctx,
    depth: u32,
) -> Result<Option<Value>, Fail> {
    let mut fits = members
        .iter()
        .copied()
        .filter(|&m| may_accept(m, v.as_ref(), depth + 1));
    let Some(first) = fits.next() else {
        return Err(Fail::new("does not match any allowed shape"));
    };
    let Some(second) = fits.next() else {
        // Only one member can take this value: convert it in place. A union that fails is
        // reported at its own path, unless it only adds `null` to one shape.
        let nullable = members.len() == 2 && members.iter().any(|&m| matches!(node(m), Node::Null));
        return convert(first, v, ctx, depth + 1).map_err(|e| {
            if nullable {
                e
            } else {
                Fail::new("does not match any allowed shape")
            }
        });
    };
    let mut best: Option<Candidate> = None;
    for m in [first, second].into_iter().chain(fits) {
        let mut sub = Ctx::default();
        if let Ok(out) = convert(m, v.clone(), &mut sub, depth + 1) {
            let c = Candidate {
                fields: out.as_ref().map_or(0, count_leaves),
                value: out,
                inexact: sub.inexact,
                zero: sub.zero,
            };
            match &best {
                Some(b) if !union_better(&c, b) => {}
                _ => best = Some(c),
            }
        }
    }
    match best {
        Some(c) => {
            ctx.inexact += c.inexact;
            ctx.zero += c.zero;
            Ok(c.value)
        }
        None => Err(Fail::new("does not match any allowed shape")),
    }
}
