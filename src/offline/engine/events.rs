//! `events.list` and `events.aggregate`: reading the events `track` recorded.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::super::state::{Event, Status};
use super::super::time::{self, Bin, DAY, HOUR};
use super::input::{
    paginate, read, BinSize, CustomerId, End, EntityId, FeatureIds, GroupBy, Limit, Number, Range,
    Start, StartCursor, Text,
};
use super::{bad, Engine, Outcome, Reply, MAX_AGGREGATE_BINS, MAX_AGGREGATE_CELLS, MAX_TIME_MS};

/// The body of `events.list`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ListBody {
    customer_id: Text<CustomerId>,
    entity_id: Text<EntityId>,
    /// A string or at most [`MAX_IDS`](super::MAX_IDS) strings.
    feature_id: FeatureIds,
    /// A [`CustomRange`], read when it is an object.
    custom_range: Option<Value>,
    start_cursor: Text<StartCursor>,
    limit: Number<Limit>,
}

/// The body of `events.aggregate`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct AggregateBody {
    customer_id: Text<CustomerId>,
    entity_id: Text<EntityId>,
    /// A string or at most [`MAX_IDS`](super::MAX_IDS) strings; required.
    feature_id: FeatureIds,
    /// A [`CustomRange`], read when it is an object; it wins over `range`.
    custom_range: Option<Value>,
    range: Text<Range>,
    bin_size: Text<BinSize>,
    group_by: Text<GroupBy>,
}

/// `custom_range`: times in milliseconds since the epoch.
#[derive(Default, Deserialize)]
#[serde(default)]
struct CustomRange {
    start: Number<Start>,
    end: Number<End>,
}

/// Which events to read: all of them, narrowed by each filter that is set.
struct Filter<'a> {
    customer_id: Option<&'a str>,
    entity_id: Option<&'a str>,
    features: Option<&'a [String]>,
    /// From (included) and to (excluded), in milliseconds.
    range: Option<(i64, i64)>,
}

/// `custom_range`: `start` and `end` (both included) between 1970 and [`MAX_TIME_MS`], `start` not
/// after `end`; a missing bound (or a `custom_range` that is not an object) is the first or the
/// last time.
fn custom_range(range: Option<&Value>) -> Result<Option<(i64, i64)>, Reply> {
    let CustomRange { start, end } = match range {
        None | Some(Value::Null) => return Ok(None),
        Some(range @ Value::Object(_)) => read(range)?,
        Some(_) => CustomRange::default(),
    };
    let start = start.timestamp("custom_range")?.unwrap_or(0);
    let end = end.timestamp("custom_range")?.unwrap_or(MAX_TIME_MS);
    if start > end {
        return Err(bad(format!(
            "`custom_range` starts ({start}) after it ends ({end})"
        )));
    }
    Ok(Some((start, end)))
}

impl Engine {
    fn matching_events(&self, filter: &Filter<'_>) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|e| filter.customer_id.is_none_or(|c| e.customer_id == c))
            .filter(|e| filter.entity_id.is_none() || e.entity_id.as_deref() == filter.entity_id)
            .filter(|e| filter.features.is_none_or(|f| f.contains(&e.feature_id)))
            .filter(|e| {
                filter
                    .range
                    .is_none_or(|(start, end)| e.timestamp >= start && e.timestamp < end)
            })
            .collect()
    }

    pub(super) fn events_list(&mut self, body: &Value) -> Outcome {
        let ListBody {
            customer_id,
            entity_id,
            feature_id,
            custom_range: range,
            start_cursor,
            limit,
        } = read(body)?;
        let range =
            custom_range(range.as_ref())?.map(|(start, end)| (start, end.saturating_add(1)));
        let mut events = self.matching_events(&Filter {
            customer_id: customer_id.0.as_deref(),
            entity_id: entity_id.0.as_deref(),
            features: feature_id.0.as_deref(),
            range,
        });
        events.reverse();
        let (page, next) = paginate(
            &events,
            |e| e.id.as_str(),
            start_cursor.0.as_deref(),
            limit.0,
            100,
        );
        let list: Vec<Value> = page
            .iter()
            .map(|e| {
                json!({
                    "id": e.id,
                    "timestamp": e.timestamp,
                    "feature_id": e.feature_id,
                    "customer_id": e.customer_id,
                    "value": e.value,
                    "properties": e.properties,
                    "deductions": e.deductions,
                })
            })
            .collect();
        Ok(json!({ "list": list, "next_cursor": next }))
    }

    /// `events.aggregate`: at most [`MAX_AGGREGATE_BINS`] bins and [`MAX_AGGREGATE_CELLS`] values
    /// (bins × features), else 400; the work is one pass over the events plus one per value.
    pub(super) fn events_aggregate(&mut self, body: &Value) -> Outcome {
        let AggregateBody {
            customer_id,
            entity_id,
            feature_id,
            custom_range: custom,
            range,
            bin_size,
            group_by,
        } = read(body)?;
        let features = feature_id
            .0
            .ok_or_else(|| bad("`feature_id` is required"))?;
        if features.is_empty() {
            return Err(bad("`feature_id` names no feature"));
        }
        let now = self.now;
        let days_ago = |days: i64| now.saturating_sub(days.saturating_mul(DAY));
        let (start, end, default_bin) = match (custom_range(custom.as_ref())?, range.0.as_deref()) {
            (Some((start, end)), _) => (start, end.min(now.saturating_add(DAY)), Bin::Day),
            (None, Some("24h")) => (now.saturating_sub(24 * HOUR), now, Bin::Hour),
            (None, Some("7d")) => (days_ago(7), now, Bin::Day),
            (None, None | Some("30d")) => (days_ago(30), now, Bin::Day),
            (None, Some("90d")) => (days_ago(90), now, Bin::Day),
            (None, Some(cycle @ ("last_cycle" | "1bc" | "3bc"))) => {
                let period = customer_id
                    .0
                    .as_ref()
                    .and_then(|c| self.customers.get(c))
                    .and_then(|c| {
                        c.account
                            .subs
                            .iter()
                            .find(|s| s.status == Status::Active && s.period_start.is_some())
                    })
                    .and_then(|s| Some((s.period_start?, s.period_end?)));
                let (start, end) = period.unwrap_or((days_ago(30), now));
                let start = if cycle == "3bc" {
                    start.saturating_sub(end.saturating_sub(start).saturating_mul(2))
                } else {
                    start
                };
                (start.max(0), now, Bin::Day)
            }
            (None, Some(other)) => {
                return Err(bad(format!("`range` {other:?} is not a known range")))
            }
        };
        let bin = match bin_size.0.as_deref() {
            None => default_bin,
            Some("hour") => Bin::Hour,
            Some("day") => Bin::Day,
            Some("week") => Bin::Week,
            Some("month") => Bin::Month,
            Some(other) => {
                return Err(bad(format!(
                    "`bin_size` {other:?} is not one of hour, day, week, month"
                )))
            }
        };
        let group_key = group_by
            .0
            .as_deref()
            .map(|g| g.strip_prefix("properties.").unwrap_or(g).to_owned());
        // The bins, counted before anything is summed: at most `max_bins` steps.
        let max_bins = MAX_AGGREGATE_BINS.min(MAX_AGGREGATE_CELLS / features.len());
        let mut bins = Vec::new();
        let mut bin_start = time::floor(start, bin);
        while bin_start <= end {
            if bins.len() == max_bins {
                return Err(bad(format!(
                    "`events.aggregate` answers at most {MAX_AGGREGATE_BINS} bins and \
                     {MAX_AGGREGATE_CELLS} values (bins × features); this range has more than \
                     {max_bins} {} bins for {} features: narrow the range or use a larger bin_size",
                    bin.as_str(),
                    features.len()
                )));
            }
            bins.push(bin_start);
            bin_start = time::next_bin(bin_start, bin);
        }
        let events = self.matching_events(&Filter {
            customer_id: customer_id.0.as_deref(),
            entity_id: entity_id.0.as_deref(),
            features: Some(&features),
            range: Some((start, end.max(start).saturating_add(1))),
        });
        // One pass over the events: each adds to its (bin, feature) value and group.
        let mut values = vec![0.0; bins.len() * features.len()];
        let mut groups: BTreeMap<usize, Map<String, Value>> = BTreeMap::new();
        let mut totals = vec![(0usize, 0.0); features.len()];
        for e in &events {
            let Some(f) = features.iter().position(|f| *f == e.feature_id) else {
                continue;
            };
            totals[f].0 += 1;
            totals[f].1 += e.value;
            // The last bin starting at or before the event (bins are contiguous and cover the range).
            let Some(b) = bins.partition_point(|&b| b <= e.timestamp).checked_sub(1) else {
                continue;
            };
            let cell = b * features.len() + f;
            values[cell] += e.value;
            if let Some(key) = &group_key {
                let label = match e.properties.get(key) {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => "unknown".to_owned(),
                };
                let group = groups.entry(cell).or_default();
                let sum = group.get(&label).and_then(Value::as_f64).unwrap_or(0.0) + e.value;
                group.insert(label, json!(sum));
            }
        }
        let list: Vec<Value> = bins
            .iter()
            .enumerate()
            .map(|(b, period)| {
                let row = b * features.len();
                let mut by_feature = Map::new();
                let mut grouped = Map::new();
                for (f, id) in features.iter().enumerate() {
                    // A feature named twice keeps its first column (the one its events went to).
                    by_feature
                        .entry(id.clone())
                        .or_insert_with(|| json!(values[row + f]));
                    if group_key.is_some() {
                        let group = groups.remove(&(row + f)).unwrap_or_default();
                        grouped.entry(id.clone()).or_insert(Value::Object(group));
                    }
                }
                let mut entry = json!({ "period": period, "values": by_feature });
                if group_key.is_some() {
                    entry["grouped_values"] = Value::Object(grouped);
                }
                entry
            })
            .collect();
        let mut total = Map::new();
        for (f, id) in features.iter().enumerate() {
            let (count, sum) = totals[f];
            total
                .entry(id.clone())
                .or_insert_with(|| json!({ "count": count, "sum": sum }));
        }
        Ok(json!({ "list": list, "total": total }))
    }
}
