//! Expected values come from running autumn-js 1.3.13's backend (its `fetch` adapter with a fake
//! upstream): `fixtures.json` holds, per case, the body our service hands to
//! [`request_to_upstream`] and the body autumn-js sent upstream, or Autumn's answer and what
//! autumn-js sent to the browser. Where autumn-js rejected the input, the fixture names the field
//! its validation error pointed at (request side) or just records the rejection (response side).
use serde_json::{json, Value};

use super::*;

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn op_named(name: &str) -> Op {
    Op::ALL
        .into_iter()
        .find(|op| format!("{op:?}") == name)
        .unwrap_or_else(|| panic!("unknown op {name}"))
}

/// Paths where two JSON values differ (at most a handful), for readable failures.
pub(super) fn json_diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    if out.len() >= 8 {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => json_diff(&format!("{path}.{k}"), v, w, out),
                    None => out.push(format!("{path}.{k}: missing, expected {v}")),
                }
            }
            for (k, w) in y {
                if !x.contains_key(k) {
                    out.push(format!("{path}.{k}: unexpected {w}"));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                json_diff(&format!("{path}[{i}]"), v, w, out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: expected {a}, got {b}")),
    }
}

fn fixtures() -> Vec<Value> {
    match serde_json::from_str(include_str!("fixtures.json")) {
        Ok(Value::Array(a)) => a,
        other => panic!("bad fixtures: {other:?}"),
    }
}

#[test]
fn table_indices_are_in_range() {
    let n = tables::NODES.len();
    for node in tables::NODES.iter() {
        match node {
            Node::Array(i) | Node::Record(i) => assert!(usize::from(*i) < n),
            Node::Union(ms) => assert!(ms.iter().all(|m| usize::from(*m) < n)),
            Node::Object(fs) => assert!(fs.iter().all(|f| usize::from(f.node) < n)),
            _ => {}
        }
    }
    for op in Op::ALL {
        assert!(matches!(
            node(tables::REQUEST_ROOTS[op.index()]),
            Node::Object(_)
        ));
    }
}

#[test]
fn every_op_has_request_and_response_fixtures() {
    let all = fixtures();
    for op in Op::ALL {
        for side in ["request", "response"] {
            assert!(
                all.iter().any(|f| f["op"] == format!("{op:?}")
                    && f["side"] == side
                    && f.get("expected").is_some()),
                "no successful {side} fixture for {op:?}"
            );
        }
    }
}

#[test]
fn fixtures_match_autumn_js() {
    let mut failures = Vec::new();
    for f in fixtures() {
        let name = f["name"].as_str().unwrap_or("?").to_owned();
        let op = op_named(f["op"].as_str().unwrap_or(""));
        let side = f["side"].as_str().unwrap_or("");
        let input = f["input"].clone();
        let got = if side == "request" {
            request_to_upstream(op, obj(input)).map(Value::Object)
        } else {
            response_to_browser(op, input)
        };
        match (f.get("expected"), got) {
            (Some(exp), Ok(got)) if *exp == got => {}
            (Some(exp), Ok(got)) => {
                let mut diffs = Vec::new();
                json_diff("", exp, &got, &mut diffs);
                failures.push(format!("{name} {side}:\n  {}", diffs.join("\n  ")));
            }
            (Some(_), Err(e)) => failures.push(format!("{name} {side}: unexpected error {e:?}")),
            (None, Ok(got)) => {
                failures.push(format!("{name} {side}: expected an error, got {got}"))
            }
            (None, Err(e)) => {
                // autumn-js reports every invalid field; ours must be one of them.
                if let Some(paths) = f.get("error_paths").and_then(Value::as_array) {
                    if !paths.iter().any(|p| *p == e.path) {
                        failures.push(format!(
                            "{name} {side}: error at {} ({}), autumn-js at {paths:?}",
                            e.path, e.message
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn op_paths() {
    assert_eq!(Op::BillingAttach.path(), "/v1/billing.attach");
    assert_eq!(
        Op::CustomersGetOrCreate.path(),
        "/v1/customers.get_or_create"
    );
    assert_eq!(Op::EventsAggregate.path(), "/v1/events.aggregate");
    let _ = json!(null);
}
