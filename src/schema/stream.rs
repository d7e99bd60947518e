//! The response side in one pass: Autumn's answer bytes to the browser's JSON bytes, with no
//! `Value` tree in between.
//!
//! It produces the same JSON as [`super::response_to_browser`] on the parsed answer (keys may come
//! in another order, which JSON does not see), but reads the input once with serde_json's
//! deserializer and writes the output as it goes: known keys are written in camelCase straight
//! from the generated tables, strings and numbers are copied, unknown keys are skipped without
//! being stored. Only the small parts that need the whole value (a union, a free-form value, a
//! non-string value that becomes its JSON text) are built as a `Value` and handed to the tree
//! path.
//!
//! Whenever this pass cannot be sure of giving the tree path's answer (any value that does not fit,
//! a repeated key, nesting past the limits) it gives up and returns `None`; the caller then runs the
//! tree path, which produces the answer or the precise error. So errors never come from here.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::response::{self, Ctx};
use super::{js_number_value, node, Def, Field, Node, MAX_DEPTH};

/// Converts Autumn's answer for the node `root`; `None` when the tree path must decide.
pub(super) fn convert(root: u16, input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    // One UTF-8 check of the whole answer (vectorised) instead of one per string.
    let input = std::str::from_utf8(input).ok()?;
    let mut de = serde_json::Deserializer::from_str(input);
    let wrote = Conv {
        n: root,
        out: &mut out,
        depth: 0,
        null: NullRule::Convert,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    match wrote {
        Wrote::Value => Some(out),
        Wrote::Absent => None,
    }
}

/// What a value came out as.
enum Wrote {
    Value,
    /// Nothing (an optional field that arrived as `null`): the caller removes its key.
    Absent,
}

/// What a `null` becomes where it stands.
#[derive(Clone, Copy)]
enum NullRule {
    /// A nullable field: `null` stays.
    Keep,
    /// An optional field without a default: the field is dropped.
    Drop,
    /// Anything else: the node's own rule (a zero value, or a failure).
    Convert,
}

fn give_up<E: de::Error>() -> E {
    E::custom("the tree path decides")
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    // Writing a `Value` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

/// Starts an element of an array or object: a comma unless it is the first. Returns where the element
/// starts, to take it back if it comes out absent.
fn begin(out: &mut Vec<u8>, first: bool) -> usize {
    let mark = out.len();
    if !first {
        out.push(b',');
    }
    mark
}

/// `"name":` for a field name from the generated tables (plain identifiers: nothing to escape).
fn write_field_name(out: &mut Vec<u8>, name: &str) {
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// A missing field's default, `"name":value`, as the tree path writes it (`Def::to_value`) but without
/// building the value; false when the field has none.
fn write_default(out: &mut Vec<u8>, first: bool, f: &Field) -> bool {
    let structured = match f.default {
        Def::None => return false,
        Def::Float(_) | Def::Json(_) => match f.default.to_value() {
            Some(v) => Some(v),
            None => return false,
        },
        _ => None,
    };
    begin(out, first);
    write_field_name(out, f.camel);
    match (&f.default, structured) {
        (_, Some(v)) => write_value(out, &v),
        (Def::Bool(b), None) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        (Def::Int(i), None) => {
            let _ = serde_json::to_writer(&mut *out, i);
        }
        (Def::Str(s), None) => write_str(out, s),
        _ => {}
    }
    true
}

/// A string that needs no escaping (see `visit_borrowed_str`), quoted.
fn write_plain_str(out: &mut Vec<u8>, s: &str) {
    debug_assert!(!s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20));
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

/// One value converted by node `n` and written to `out`.
struct Conv<'a> {
    n: u16,
    out: &'a mut Vec<u8>,
    depth: u32,
    null: NullRule,
}

impl<'de> DeserializeSeed<'de> for Conv<'_> {
    type Value = Wrote;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Wrote, D::Error> {
        if self.depth > MAX_DEPTH {
            return Err(give_up());
        }
        match node(self.n) {
            // Values that need the whole subtree: build it and let the tree path convert it.
            Node::Any | Node::Union(_) => {
                let v = Value::deserialize(d)?;
                if v.is_null() {
                    match self.null {
                        NullRule::Keep => {
                            self.out.extend_from_slice(b"null");
                            return Ok(Wrote::Value);
                        }
                        NullRule::Drop => return Ok(Wrote::Absent),
                        NullRule::Convert => {}
                    }
                }
                match response::convert(self.n, Some(v), &mut Ctx::default(), self.depth) {
                    Ok(Some(v)) => {
                        write_value(self.out, &v);
                        Ok(Wrote::Value)
                    }
                    Ok(None) => Ok(Wrote::Absent),
                    Err(_) => Err(give_up()),
                }
            }
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Conv<'_> {
    type Value = Wrote;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Wrote, E> {
        match self.null {
            NullRule::Keep => {
                self.out.extend_from_slice(b"null");
                return Ok(Wrote::Value);
            }
            NullRule::Drop => return Ok(Wrote::Absent),
            NullRule::Convert => {}
        }
        match node(self.n) {
            Node::Null => self.out.extend_from_slice(b"null"),
            Node::Str => self.out.extend_from_slice(b"\"\""),
            Node::Num | Node::Int => self.out.push(b'0'),
            Node::Bool => self.out.extend_from_slice(b"false"),
            Node::Const(c) => write_str(self.out, c),
            _ => return Err(give_up()),
        }
        Ok(Wrote::Value)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Wrote, E> {
        match node(self.n) {
            Node::Bool => self
                .out
                .extend_from_slice(if b { b"true" } else { b"false" }),
            // A non-string where a string belongs becomes its JSON text.
            Node::Str => write_str(self.out, if b { "true" } else { "false" }),
            _ => return Err(give_up()),
        }
        Ok(Wrote::Value)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Wrote, E> {
        if let Node::Num | Node::Int = node(self.n) {
            // An integer is written as it is (what `js_number_value` keeps it as).
            let _ = serde_json::to_writer(&mut *self.out, &v);
            return Ok(Wrote::Value);
        }
        self.number(serde_json::Number::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Wrote, E> {
        if let Node::Num | Node::Int = node(self.n) {
            let _ = serde_json::to_writer(&mut *self.out, &v);
            return Ok(Wrote::Value);
        }
        self.number(serde_json::Number::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Wrote, E> {
        match serde_json::Number::from_f64(v) {
            Some(n) => self.number(n),
            None => Err(give_up()),
        }
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Wrote, E> {
        // Borrowed means the input spelled the string without an escape: it holds no `"`, no `\` and
        // no control character (serde_json refuses those raw), which are all serde_json's writer
        // escapes. So its bytes are already the JSON text the writer would produce: copied as they are.
        match node(self.n) {
            Node::Str | Node::Enum(_) => {
                write_plain_str(self.out, s);
                Ok(Wrote::Value)
            }
            Node::Const(c) if s == *c => {
                write_plain_str(self.out, s);
                Ok(Wrote::Value)
            }
            _ => self.visit_str(s),
        }
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Wrote, E> {
        match node(self.n) {
            Node::Str | Node::Enum(_) => write_str(self.out, s),
            Node::Const(c) if s == *c => write_str(self.out, s),
            Node::Num | Node::Int => match response::js_number(s) {
                Some(v) => write_value(self.out, &v),
                None => return Err(give_up()),
            },
            Node::Bool if s.eq_ignore_ascii_case("true") => self.out.extend_from_slice(b"true"),
            Node::Bool if s.eq_ignore_ascii_case("false") => self.out.extend_from_slice(b"false"),
            _ => return Err(give_up()),
        }
        Ok(Wrote::Value)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Wrote, A::Error> {
        match node(self.n) {
            Node::Array(item) => {
                let item = *item;
                self.out.push(b'[');
                let mut first = true;
                loop {
                    let mark = begin(self.out, first);
                    match seq.next_element_seed(self.child(item, NullRule::Convert))? {
                        None => {
                            self.out.truncate(mark);
                            break;
                        }
                        // An element that comes out absent is JSON `null`.
                        Some(Wrote::Absent) => self.out.extend_from_slice(b"null"),
                        Some(Wrote::Value) => {}
                    }
                    first = false;
                }
                self.out.push(b']');
                Ok(Wrote::Value)
            }
            Node::Str => {
                let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                self.json_text(&v)
            }
            _ => Err(give_up()),
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Wrote, A::Error> {
        match node(self.n) {
            Node::Object(fields) => self.object(fields, map),
            Node::Record(val) => {
                let val = *val;
                if matches!(node(val), Node::Any) {
                    // User data kept as it is (a repeated key keeps its last value, as a parser would).
                    let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                    write_value(self.out, &v);
                    return Ok(Wrote::Value);
                }
                self.out.push(b'{');
                let mut first = true;
                let mut keys: Vec<Key<'de>> = Vec::new();
                while let Some(key) = map.next_key_seed(KeySeed)? {
                    if keys.iter().any(|k| k.as_str() == key.as_str()) {
                        // A repeated user key: the last one wins in a tree; let the tree path say.
                        return Err(give_up());
                    }
                    let mark = begin(self.out, first);
                    write_str(self.out, key.as_str());
                    self.out.push(b':');
                    match map.next_value_seed(self.child(val, NullRule::Convert))? {
                        Wrote::Value => first = false,
                        Wrote::Absent => self.out.truncate(mark),
                    }
                    keys.push(key);
                }
                self.out.push(b'}');
                Ok(Wrote::Value)
            }
            Node::Str => {
                let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                self.json_text(&v)
            }
            _ => Err(give_up()),
        }
    }
}

impl<'de> Conv<'_> {
    /// The seed of a value one level down, writing to the same output.
    fn child(&mut self, n: u16, null: NullRule) -> Conv<'_> {
        Conv {
            n,
            out: &mut *self.out,
            depth: self.depth + 1,
            null,
        }
    }

    fn number<E: de::Error>(self, n: serde_json::Number) -> Result<Wrote, E> {
        match node(self.n) {
            Node::Num | Node::Int => write_value(self.out, &js_number_value(n)),
            Node::Str => return self.json_text(&Value::Number(n)),
            _ => return Err(give_up()),
        }
        Ok(Wrote::Value)
    }

    /// A non-string value where a string belongs: its JSON text, as the tree path writes it.
    fn json_text<E: de::Error>(self, v: &Value) -> Result<Wrote, E> {
        let mut text = String::new();
        response::js_json(v, &mut text, self.depth).map_err(|_| give_up::<E>())?;
        write_str(self.out, &text);
        Ok(Wrote::Value)
    }

    fn object<A: MapAccess<'de>>(
        mut self,
        fields: &'static [Field],
        mut map: A,
    ) -> Result<Wrote, A::Error> {
        self.out.push(b'{');
        let mut first = true;
        let mut seen: u128 = 0;
        // Autumn writes an object's keys in its schema's order, which is the tables' order: the field
        // after the last one found is tried first, the whole list only when that guess misses.
        let mut next = 0;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let key = key.as_str();
            let found = match fields.get(next) {
                Some(f) if f.snake == key => Some(next),
                _ => fields.iter().position(|f| {
                    // Most names differ in length or first byte: skip the full comparison for them.
                    f.snake.len() == key.len()
                        && f.snake.as_bytes().first() == key.as_bytes().first()
                        && f.snake == key
                }),
            };
            let Some(i) = found else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            next = i + 1;
            let bit = 1u128.checked_shl(i as u32).unwrap_or(0);
            if bit == 0 || seen & bit != 0 {
                // A repeated key (the tree keeps the last one) or an object too wide to track.
                return Err(give_up());
            }
            seen |= bit;
            let f = &fields[i];
            let mark = begin(self.out, first);
            write_field_name(self.out, f.camel);
            let null = if f.nullable {
                NullRule::Keep
            } else if f.drops_null() {
                NullRule::Drop
            } else {
                NullRule::Convert
            };
            match map.next_value_seed(self.child(f.node, null))? {
                Wrote::Value => first = false,
                Wrote::Absent => self.out.truncate(mark),
            }
        }
        for (i, f) in fields.iter().enumerate() {
            if seen & 1u128.checked_shl(i as u32).unwrap_or(0) != 0 {
                continue;
            }
            if write_default(self.out, first, f) {
                first = false;
            } else if f.required && !matches!(node(f.node), Node::Any) {
                return Err(give_up());
            }
        }
        self.out.push(b'}');
        Ok(Wrote::Value)
    }
}

/// An object key, borrowed from the input when it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(s))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
        Ok(Key::Owned(s))
    }
}
