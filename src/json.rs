//! The strict JSON reader for browser bodies, shared by both protocols.
//!
//! `serde_json::Value` keeps the last of two repeated keys silently; two parsers on the way (a proxy,
//! a WAF, the app) may each pick a different copy, so a body that repeats a key is refused instead.
//! The legacy protocol also renames keys while reading ([`KeyRule`]). serde_json's nesting limit
//! still applies.

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
