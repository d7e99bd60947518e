//! The strict JSON reader for browser bodies, shared by both protocols.
//!
//! `serde_json::Value` keeps the last of two repeated keys silently; two parsers on the way (a proxy,
//! a WAF, the app) may each pick a different copy, so a body that repeats a key is refused instead.
//! The legacy protocol also renames keys while reading ([`KeyRule`]). serde_json's nesting limit
//! still applies.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// How object keys are renamed while reading.
#[derive(Clone, Copy)]
pub(crate) struct KeyRule {
    /// The new name of a key.
    pub(crate) rename: fn(&str) -> String,
    /// Whether the value of this (original) key is user data, read without renaming.
    pub(crate) keeps_children: fn(&str) -> bool,
}

/// A hook that sees each top-level entry of a body, as sent.
pub(crate) type TopHook<'a> = &'a dyn Fn(&str, &Value);

/// Reads one JSON value, refusing repeated keys and renaming keys by `rule`.
pub(crate) struct Strict<'a> {
    /// `None` keeps every key as it is.
    pub(crate) rule: Option<KeyRule>,
    /// Called with each entry of the top-level object, as sent (before renaming).
    pub(crate) top: Option<TopHook<'a>>,
}

impl Strict<'_> {
    /// Keys kept as they are, no hook.
    pub(crate) const PLAIN: Strict<'static> = Strict {
        rule: None,
        top: None,
    };

    /// Reads a whole document (nothing but whitespace after the value).
    pub(crate) fn read(self, bytes: &[u8]) -> Result<Value, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let value = self.deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict {
            rule: self.rule,
            top: None,
        })? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        // With renaming, two keys may share a new name; repeats are judged on the keys as sent. Both
        // look-ups cost O(log n) or O(1) per key, so an object of n keys costs O(n log n) at worst
        // (a linear scan here made a 1 MiB body of 95,000 keys cost 4.5e9 comparisons).
        let mut sent: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let repeated = match self.rule {
                None => out.contains_key(&key),
                Some(_) => sent.contains(key.as_str()),
            };
            if repeated {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let child = self.rule.filter(|r| !(r.keeps_children)(&key));
            let value = map.next_value_seed(Strict {
                rule: child,
                top: None,
            })?;
            if let Some(top) = self.top {
                top(&key, &value);
            }
            match self.rule {
                None => {
                    out.insert(key, value);
                }
                Some(rule) => {
                    // Like `Object.fromEntries`: of two keys with the same new name, the later wins.
                    out.insert((rule.rename)(&key), value);
                    sent.insert(key);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// What [`check`] found at the top of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Top {
    /// An object whose entry `key` is exactly `false`.
    ObjectWithFalse,
    /// An object without such an entry, or an array.
    Container,
    /// Anything else.
    Other,
}

/// Checks a whole document exactly as [`Strict::read`] reads it (the same errors: syntax, nesting,
/// repeated keys as sent, trailing bytes) without building it: keys are borrowed from `bytes` where they
/// have no escapes. For callers that only need to know whether a body is acceptable and whether its
/// top-level entry `key` is `false`.
pub(crate) fn check(bytes: &[u8], key: &str) -> Result<Top, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seen = de::Deserializer::deserialize_any(&mut de, Check { key: Some(key) })?;
    de.end()?;
    Ok(match seen {
        Seen::Object { found: true } => Top::ObjectWithFalse,
        Seen::Object { found: false } | Seen::Array => Top::Container,
        Seen::False | Seen::Other => Top::Other,
    })
}

/// What [`Check`] saw.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    False,
    /// `found`: the entry looked for is `false`.
    Object {
        found: bool,
    },
    Array,
    Other,
}

/// The visitor of [`check`]; `key` is looked for in the object it visits (the top one only).
#[derive(Clone, Copy)]
struct Check<'k> {
    key: Option<&'k str>,
}

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = Seen;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Seen, D::Error> {
        d.deserialize_any(self)
    }
}

/// A key, borrowed from the input when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = Seen;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Seen, E> {
        Ok(if v { Seen::Other } else { Seen::False })
    }

    fn visit_i64<E>(self, _: i64) -> Result<Seen, E> {
        Ok(Seen::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Seen, E> {
        Ok(Seen::Other)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seen, E> {
        // The same refusal as `Strict`'s.
        match serde_json::Number::from_f64(v) {
            Some(_) => Ok(Seen::Other),
            None => Err(E::custom("number out of range")),
        }
    }

    fn visit_str<E>(self, _: &str) -> Result<Seen, E> {
        Ok(Seen::Other)
    }

    fn visit_unit<E>(self) -> Result<Seen, E> {
        Ok(Seen::Other)
    }

    fn visit_none<E>(self) -> Result<Seen, E> {
        Ok(Seen::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Seen, A::Error> {
        while seq.next_element_seed(Check { key: None })?.is_some() {}
        Ok(Seen::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seen, A::Error> {
        let mut seen = HashSet::new();
        let mut found = false;
        while let Some(key) = map.next_key_seed(Key)? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let value = map.next_value_seed(Check { key: None })?;
            if value == Seen::False && self.key == Some(&*key) {
                found = true;
            }
            seen.insert(key);
        }
        Ok(Seen::Object { found })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check` refuses exactly what `Strict` refuses, with the same message, and finds the entry.
    #[test]
    fn check_agrees_with_strict() {
        let cases: &[&[u8]] = &[
            br#"{"errorOnNotFound":false}"#,
            br#"{"errorOnNotFound":true}"#,
            br#"{"a":{"errorOnNotFound":false}}"#,
            br#"[{"errorOnNotFound":false}]"#,
            br#"{"errorOnNotFound":false,"errorOnNotFound":false}"#,
            br#"{"a":{"b":1,"b":2}}"#,
            br#"{"a\u0062":1,"ab":2}"#,
            br#"{"a":1e400}"#,
            br#"{"a":1} x"#,
            br#"false"#,
            br#"{"a":"\ud800"}"#,
            b"{\"a\":\"\xff\"}",
            br#"{"a":[1,2,{"c":null}],"b":-0.0}"#,
        ];
        for &bytes in cases {
            let strict = Strict::PLAIN.read(bytes);
            let checked = check(bytes, "errorOnNotFound");
            match (&strict, &checked) {
                (Ok(v), Ok(top)) => {
                    let expect = match v {
                        Value::Object(m)
                            if m.get("errorOnNotFound") == Some(&Value::Bool(false)) =>
                        {
                            Top::ObjectWithFalse
                        }
                        Value::Object(_) | Value::Array(_) => Top::Container,
                        _ => Top::Other,
                    };
                    assert_eq!(*top, expect, "{}", String::from_utf8_lossy(bytes));
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                _ => panic!("{}: {strict:?} {checked:?}", String::from_utf8_lossy(bytes)),
            }
        }
    }
}
