//! Reading request bodies with serde: every operation reads its body into a
//! `#[derive(Deserialize)]` struct (next to the operation) whose fields are the typed fields
//! below, so a field of the wrong type answers 400 `invalid_request` with a message naming it.
//! Bounds (amounts, times, lengths of id lists) are checked here too, before anything is copied out
//! of a long array.
//!
//! A nested object that the operation reads only in some cases (`customer_data`, `lock`,
//! `custom_range`, `plans`, `updates`) is kept as a `Value` and read with [`read`] when needed.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, Error as _, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{bad, Reply, MAX_AMOUNT, MAX_IDS, MAX_TIME_MS};

/// One page of `items` after `start_cursor` (the key of the last item of the previous page; a
/// cursor that names no item gives an empty page), at most `limit` long.
pub(super) fn paginate<'a, T>(
    items: &'a [T],
    key: impl Fn(&T) -> &str,
    start_cursor: Option<&str>,
    limit: Option<f64>,
    default_limit: usize,
) -> (&'a [T], Value) {
    let start = match start_cursor {
        None | Some("") => 0,
        Some(cursor) => items
            .iter()
            .position(|item| key(item) == cursor)
            .map_or(items.len(), |i| i + 1),
    };
    let limit = limit.map_or(default_limit, |l| l.clamp(1.0, 1000.0) as usize);
    let end = (start + limit).min(items.len());
    let next = match end.checked_sub(1) {
        Some(last) if end < items.len() => json!(key(&items[last])),
        _ => Value::Null,
    };
    (&items[start..end], next)
}

/// Reads a request body (or a part of one) into a `#[derive(Deserialize)]` struct whose fields are
/// the typed fields below: a field of the wrong type answers 400 with its message.
pub(super) fn read<'a, T: Deserialize<'a>>(body: &'a Value) -> Result<T, Reply> {
    T::deserialize(body).map_err(|e| bad(e.to_string()))
}

/// A body field's name, for its 400 messages.
pub(super) trait Name {
    const NAME: &'static str;
}

macro_rules! names {
    ($($marker:ident = $name:literal),* $(,)?) => {$(
        #[doc = concat!("The field `", $name, "`.")]
        pub(super) enum $marker {}
        impl Name for $marker {
            const NAME: &'static str = $name;
        }
    )*};
}

names! {
    CustomerId = "customer_id",
    EntityId = "entity_id",
    PlanId = "plan_id",
    SubscriptionId = "subscription_id",
    SuccessUrl = "success_url",
    CancelAction = "cancel_action",
    FeatureId = "feature_id",
    ProgramId = "program_id",
    Code = "code",
    NewCustomerId = "new_customer_id",
    DisplayName = "name",
    Email = "email",
    Fingerprint = "fingerprint",
    Metadata = "metadata",
    Search = "search",
    StartCursor = "start_cursor",
    Limit = "limit",
    RequiredBalance = "required_balance",
    Amount = "value",
    SendEvent = "send_event",
    WithPreview = "with_preview",
    Enabled = "enabled",
    LockId = "lock_id",
    ExpiresAt = "expires_at",
    FinalizeAction = "action",
    OverrideValue = "override_value",
    Properties = "properties",
    EventName = "event_name",
    OverageBehavior = "overage_behavior",
    Range = "range",
    BinSize = "bin_size",
    GroupBy = "group_by",
    Start = "start",
    End = "end",
}

/// A string field: missing or `null` is `None`; any other type answers 400 "`<name>` must be a
/// string".
pub(super) struct Text<N>(pub(super) Option<String>, PhantomData<N>);

impl<N> Default for Text<N> {
    fn default() -> Self {
        Text(None, PhantomData)
    }
}

impl<'de, N: Name> Deserialize<'de> for Text<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<String>::deserialize(d)
            .map(|s| Text(s, PhantomData))
            .map_err(|_| D::Error::custom(format!("`{}` must be a string", N::NAME)))
    }
}

impl<N: Name> Text<N> {
    /// The value, or 400 "`<name>` is required" when it is missing, `null` or empty.
    pub(super) fn required(self) -> Result<String, Reply> {
        match self.0 {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(bad(format!("`{}` is required", N::NAME))),
        }
    }
}

/// A number field: missing or `null` is `None`; any other type answers 400 "`<name>` must be a
/// number".
pub(super) struct Number<N>(pub(super) Option<f64>, PhantomData<N>);

impl<N> Default for Number<N> {
    fn default() -> Self {
        Number(None, PhantomData)
    }
}

impl<'de, N: Name> Deserialize<'de> for Number<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<f64>::deserialize(d) {
            Ok(n) if n.is_none_or(f64::is_finite) => Ok(Number(n, PhantomData)),
            _ => Err(D::Error::custom(format!("`{}` must be a number", N::NAME))),
        }
    }
}

impl<N: Name> Number<N> {
    /// An amount: within [`MAX_AMOUNT`] either way, else 400.
    pub(super) fn amount(self) -> Result<Option<f64>, Reply> {
        match self.0 {
            Some(n) if n.abs() > MAX_AMOUNT => Err(bad(format!(
                "`{}` must be between -{MAX_AMOUNT:e} and {MAX_AMOUNT:e}",
                N::NAME
            ))),
            n => Ok(n),
        }
    }

    /// A time in milliseconds since the epoch, between 1970 and [`MAX_TIME_MS`], else 400 naming
    /// the field `<within>.<name>`.
    pub(super) fn timestamp(self, within: &str) -> Result<Option<i64>, Reply> {
        match self.0 {
            None => Ok(None),
            Some(ms) if (0.0..=MAX_TIME_MS as f64).contains(&ms) => Ok(Some(ms as i64)),
            Some(_) => Err(bad(format!(
                "`{within}.{}` must be a time in milliseconds between 0 and {MAX_TIME_MS}",
                N::NAME
            ))),
        }
    }
}

/// A boolean field: missing or `null` is `false`; any other type answers 400 "`<name>` must be a
/// boolean".
pub(super) struct Flag<N>(pub(super) bool, PhantomData<N>);

impl<N> Default for Flag<N> {
    fn default() -> Self {
        Flag(false, PhantomData)
    }
}

impl<'de, N: Name> Deserialize<'de> for Flag<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<bool>::deserialize(d)
            .map(|b| Flag(b.unwrap_or(false), PhantomData))
            .map_err(|_| D::Error::custom(format!("`{}` must be a boolean", N::NAME)))
    }
}

/// An object field (`metadata`, `properties`): missing or `null` is empty; any other type answers
/// 400 "`<name>` must be an object".
pub(super) struct Object<N>(pub(super) Map<String, Value>, PhantomData<N>);

impl<N> Default for Object<N> {
    fn default() -> Self {
        Object(Map::new(), PhantomData)
    }
}

impl<'de, N: Name> Deserialize<'de> for Object<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<Map<String, Value>>::deserialize(d)
            .map(|m| Object(m.unwrap_or_default(), PhantomData))
            .map_err(|_| D::Error::custom(format!("`{}` must be an object", N::NAME)))
    }
}

/// A field an update sets only when the body has it: missing is `None`, present (even `null`) is
/// `Some`, so `{"name": null}` clears the name and `{}` keeps it.
pub(super) struct Present<T>(pub(super) Option<T>);

impl<T> Default for Present<T> {
    fn default() -> Self {
        Present(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Present<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(|t| Present(Some(t)))
    }
}

/// `feature_id` as a string or an array of at most [`MAX_IDS`] strings; the array's length is
/// checked before any of it is copied.
#[derive(Default)]
pub(super) struct FeatureIds(pub(super) Option<Vec<String>>);

const NOT_FEATURE_IDS: &str = "`feature_id` must be a string or an array of strings";

impl<'de> Deserialize<'de> for FeatureIds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FeatureIdsVisitor)
    }
}

struct FeatureIdsVisitor;

impl<'de> Visitor<'de> for FeatureIdsVisitor {
    type Value = FeatureIds;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<FeatureIds, E> {
        Ok(FeatureIds(None))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<FeatureIds, E> {
        Ok(FeatureIds(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<FeatureIds, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<FeatureIds, E> {
        Ok(FeatureIds(Some(vec![s.to_owned()])))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FeatureIds, A::Error> {
        let too_many =
            |n: usize| A::Error::custom(format!("`feature_id` has {n} entries: at most {MAX_IDS}"));
        if let Some(n) = seq.size_hint().filter(|&n| n > MAX_IDS) {
            return Err(too_many(n));
        }
        let mut ids = Vec::new();
        while let Some(id) = seq
            .next_element::<Value>()
            .map_err(|_| A::Error::custom(NOT_FEATURE_IDS))?
        {
            let Value::String(id) = id else {
                return Err(A::Error::custom(NOT_FEATURE_IDS));
            };
            if ids.len() == MAX_IDS {
                let mut n = ids.len() + 1;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                return Err(too_many(n));
            }
            ids.push(id);
        }
        Ok(FeatureIds(Some(ids)))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<FeatureIds, E> {
        Err(E::custom(NOT_FEATURE_IDS))
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<FeatureIds, E> {
        Err(E::custom(NOT_FEATURE_IDS))
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<FeatureIds, E> {
        Err(E::custom(NOT_FEATURE_IDS))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<FeatureIds, E> {
        Err(E::custom(NOT_FEATURE_IDS))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<FeatureIds, A::Error> {
        Err(A::Error::custom(NOT_FEATURE_IDS))
    }
}

/// `expand`: the strings of an array; anything else (or any other entry) is ignored.
#[derive(Default)]
pub(super) struct Expand(pub(super) Vec<String>);

impl<'de> Deserialize<'de> for Expand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let strings = match value {
            Value::Array(items) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(Expand(strings))
    }
}

/// A field read only in some cases: its type error, if any, is kept and answered (400, with the
/// field's message) only when [`get`](Later::get) is called, so a field the operation does not
/// need is not checked.
pub(super) struct Later<T>(Result<T, String>);

impl<T: Default> Default for Later<T> {
    fn default() -> Self {
        Later(Ok(T::default()))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Later<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Later(T::deserialize(d).map_err(|e| e.to_string())))
    }
}

impl<T> Later<T> {
    /// The field, or 400 with its type error.
    pub(super) fn get(self) -> Result<T, Reply> {
        self.0.map_err(bad)
    }
}
