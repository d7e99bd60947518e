//! Reading request bodies: fields, amounts, times, id lists and pagination.

use serde_json::{json, Map, Value};

use super::{bad, Reply, MAX_AMOUNT, MAX_IDS, MAX_TIME_MS};

/// Reads a body field as a string.
pub(super) fn string(body: &Value, field: &str) -> Result<Option<String>, Reply> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("`{field}` must be a string"))),
    }
}

pub(super) fn required(body: &Value, field: &str) -> Result<String, Reply> {
    match string(body, field)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(bad(format!("`{field}` is required"))),
    }
}

pub(super) fn number(body: &Value, field: &str) -> Result<Option<f64>, Reply> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| bad(format!("`{field}` must be a number"))),
    }
}

pub(super) fn boolean(body: &Value, field: &str) -> Result<bool, Reply> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(format!("`{field}` must be a boolean"))),
    }
}

pub(super) fn object(body: &Value, field: &str) -> Result<Map<String, Value>, Reply> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(bad(format!("`{field}` must be an object"))),
    }
}

/// An amount: a number within [`MAX_AMOUNT`] either way.
pub(super) fn amount(body: &Value, field: &str) -> Result<Option<f64>, Reply> {
    match number(body, field)? {
        Some(n) if n.abs() > MAX_AMOUNT => Err(bad(format!(
            "`{field}` must be between -{MAX_AMOUNT:e} and {MAX_AMOUNT:e}"
        ))),
        n => Ok(n),
    }
}

/// A time in milliseconds since the epoch, between 1970 and [`MAX_TIME_MS`].
pub(super) fn timestamp(body: &Value, field: &str, within: &str) -> Result<Option<i64>, Reply> {
    match number(body, field)? {
        None => Ok(None),
        Some(ms) if (0.0..=MAX_TIME_MS as f64).contains(&ms) => Ok(Some(ms as i64)),
        Some(_) => Err(bad(format!(
            "`{within}.{field}` must be a time in milliseconds between 0 and {MAX_TIME_MS}"
        ))),
    }
}

/// `feature_id` as a string or an array of at most [`MAX_IDS`] strings.
pub(super) fn feature_ids(body: &Value) -> Result<Option<Vec<String>>, Reply> {
    match body.get("feature_id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) if items.len() > MAX_IDS => Err(bad(format!(
            "`feature_id` has {} entries: at most {MAX_IDS}",
            items.len()
        ))),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| bad("`feature_id` must be a string or an array of strings")),
        Some(_) => Err(bad("`feature_id` must be a string or an array of strings")),
    }
}

pub(super) fn expand(body: &Value) -> Vec<String> {
    body.get("expand")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// One page of `items` after `start_cursor` (the key of the last item of the previous page; a
/// cursor that names no item gives an empty page), at most `limit` long.
pub(super) fn paginate<'a, T>(
    items: &'a [T],
    key: impl Fn(&T) -> &str,
    body: &Value,
    default_limit: usize,
) -> Result<(&'a [T], Value), Reply> {
    let start = match string(body, "start_cursor")?.as_deref() {
        None | Some("") => 0,
        Some(cursor) => items
            .iter()
            .position(|item| key(item) == cursor)
            .map_or(items.len(), |i| i + 1),
    };
    let limit = number(body, "limit")?.map_or(default_limit, |l| l.clamp(1.0, 1000.0) as usize);
    let end = (start + limit).min(items.len());
    let next = match end.checked_sub(1) {
        Some(last) if end < items.len() => json!(key(&items[last])),
        _ => Value::Null,
    };
    Ok((&items[start..end], next))
}

/// Reads a request body (or a part of one) into a `#[derive(Deserialize)]` struct whose fields are
/// the typed fields below: a field of the wrong type answers 400 with its message.
pub(super) fn read<'a, T: serde::Deserialize<'a>>(body: &'a Value) -> Result<T, Reply> {
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
}

/// A string field: missing or `null` is `None`; any other type answers 400 "`<name>` must be a
/// string".
pub(super) struct Text<N>(pub(super) Option<String>, std::marker::PhantomData<N>);

impl<N> Default for Text<N> {
    fn default() -> Self {
        Text(None, std::marker::PhantomData)
    }
}

impl<'de, N: Name> serde::Deserialize<'de> for Text<N> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<String>::deserialize(d)
            .map(|s| Text(s, std::marker::PhantomData))
            .map_err(|_| serde::de::Error::custom(format!("`{}` must be a string", N::NAME)))
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
