//! Expected values come from running autumn-js 1.3.13's backend (its `fetch` adapter with a fake
//! upstream): `fixtures.json` holds, per case, the body our service hands to
//! [`request_to_upstream`] and the body autumn-js sent upstream, or Autumn's answer and what
//! autumn-js sent to the browser. Where autumn-js rejected the input, the fixture lists the fields
//! its validation error named (request side) or just records the rejection (response side).
//! Besides hand-written cases there are random ones (`random_*`): bodies generated from our
//! tables, their outcome taken from autumn-js; `random_answer_*` answers were parsed by the
//! response schemas of the SDK inside autumn-js directly. Random answers where an object with
//! several keys stands in for a string are left out: the JSON text written for it lists keys in
//! a different order (a documented difference, see the module docs).
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
    match serde_json::from_str(include_str!("../fixtures.json")) {
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

/// The input and autumn-js's result of one fixture.
fn fixture(name: &str, side: &str) -> (Value, Option<Value>) {
    let f = fixtures()
        .into_iter()
        .find(|f| f["name"] == name && f["side"] == side)
        .unwrap_or_else(|| panic!("no fixture {name} {side}"));
    (f["input"].clone(), f.get("expected").cloned())
}

fn request(op: Op, name: &str) -> Result<Map<String, Value>, FieldError> {
    request_to_upstream(op, obj(fixture(name, "request").0))
}

fn response(op: Op, name: &str) -> Result<Value, FieldError> {
    response_to_browser(op, fixture(name, "response").0)
}

#[test]
fn request_renames_fills_defaults_drops_unknown_and_keeps_user_maps() {
    let out = request(Op::BillingAttach, "attach").expect("valid");
    // autumn-js's upstream body, field by field
    assert_eq!(out["plan_id"], "pro"); // not the browser's `plan_id: "x"` (an unknown key)
    assert_eq!(out["customer_id"], "cus_1");
    assert_eq!(out["redirect_mode"], "if_required");
    assert_eq!(
        out["feature_quantities"],
        json!([{"feature_id": "seats", "quantity": 3}])
    );
    assert_eq!(out["metadata"], json!({"camelKey": "a", "snake_key": "b"}));
    assert_eq!(
        out["checkout_session_params"],
        json!({"allowPromotionCodes": true, "custom_text": {"submitMessage": "x"}})
    );
    assert_eq!(
        out["customize"]["free_trial"],
        json!({"duration_length": 7, "duration_type": "month", "card_required": false, "on_end": "bill"})
    );
    let item = &out["customize"]["items"][0];
    assert_eq!(item["pooled"], false);
    assert_eq!(
        item["reset"],
        json!({"interval": "month", "interval_count": 1})
    );
    assert_eq!(item["price"]["billing_units"], 1);
    assert_eq!(item["price"]["interval_count"], 1);
    assert_eq!(
        out["invoice_mode"],
        json!({"enabled": true, "enable_plan_immediately": false, "finalize": true})
    );
    assert!(!out.contains_key("planId") && !out.contains_key("featureQuantities"));
}

#[test]
fn request_defaults_of_other_operations() {
    let events = request(Op::EventsList, "listEvents").expect("valid");
    assert_eq!(events["start_cursor"], "");
    assert_eq!(events["limit"], 50);
    let agg = request(Op::EventsAggregate, "aggregateEvents").expect("valid");
    assert_eq!(agg["bin_size"], "day");
    assert_eq!(
        agg["filter_by"],
        json!({"modelName": "gpt", "plan_tier": "x"})
    );
    let cust = request(Op::CustomersGetOrCreate, "getOrCreateCustomer").expect("valid");
    let controls = &cust["billing_controls"];
    assert_eq!(controls["auto_topups"][0]["enabled"], false);
    assert_eq!(
        controls["auto_topups"][0]["purchase_limit"]["interval_count"],
        1
    );
    assert_eq!(controls["spend_limits"][0]["enabled"], false);
    assert_eq!(controls["overage_allowed"][0]["enabled"], false);
    assert_eq!(controls["usage_limits"][0]["enabled"], true);
    assert_eq!(controls["usage_alerts"][0]["enabled"], true);
    assert_eq!(controls["usage_alerts"][0]["basis"], "balance");
    // a property filter keeps its keys
    assert_eq!(
        controls["usage_alerts"][0]["filter"]["properties"],
        json!({"regionName": "eu", "plan_tier": 3})
    );
    // `send_email_receipts` from the browser is an unknown key; its camelCase twin wins
    assert_eq!(cust["send_email_receipts"], false);
    let setup = request(Op::BillingSetupPayment, "setupPayment").expect("valid");
    assert!(!setup.contains_key("redirect_mode"));
}

#[test]
fn request_invalid_fields_are_named() {
    let cases = [
        (
            Op::BillingAttach,
            "attach_string_quantity",
            "featureQuantities[0].quantity",
            "expected a number",
        ),
        (
            Op::BillingAttach,
            "attach_fractional_integer",
            "startsAt",
            "expected an integer",
        ),
        (
            Op::BillingAttach,
            "attach_unknown_enum",
            "redirectMode",
            r#"expected one of "always", "if_required", "never""#,
        ),
        (
            Op::BillingAttach,
            "attach_missing_plan",
            "planId",
            "is required",
        ),
        (
            Op::BillingAttach,
            "attach_null_free_trial",
            "entityId",
            "expected a string",
        ),
        (
            Op::EntitiesGet,
            "getEntity_number_id",
            "entityId",
            "expected a string",
        ),
        (
            Op::BillingSetupPayment,
            "setupPayment_bad_metadata",
            "metadata.camelKey",
            "expected a string",
        ),
        (
            Op::EventsList,
            "listEvents_bad_feature",
            "featureId",
            "does not match any allowed shape",
        ),
        (
            Op::CustomersGetOrCreate,
            "getOrCreate_bad_expand",
            "expand[1]",
            r#"expected one of "invoices", "invoice_previews", "trials_used", "rewards", "entities", "referrals", "payment_method", "subscriptions.plan", "purchases.plan", "balances.feature", "flags.feature", "billing_controls.auto_topups.purchase_limit""#,
        ),
    ];
    for (op, name, path, message) in cases {
        let err = request(op, name).expect_err(name);
        assert_eq!(
            (err.path.as_str(), err.message.as_str()),
            (path, message),
            "{name}"
        );
    }
}

#[test]
fn request_integers_take_whole_floats_and_nullable_fields_take_null() {
    let out = request(Op::BillingAttach, "attach_whole_float_integer").expect("valid");
    assert_eq!(out["starts_at"], json!(1_700_000_000_000i64));
    assert_eq!(out["license_quantities"][0]["quantity"], json!(2));
    let out = request(Op::BillingAttach, "attach_null_trial_and_price").expect("valid");
    assert_eq!(out["free_trial"], Value::Null);
    assert_eq!(out["customize"], json!({"free_trial": null, "price": null}));
}

#[test]
fn get_or_create_replaces_a_non_array_expand() {
    let out = request(Op::CustomersGetOrCreate, "getOrCreate_expand_not_array").expect("valid");
    assert!(!out.contains_key("expand"));
}

#[test]
fn response_camel_cases_drops_unknown_and_optional_nulls_keeps_user_maps() {
    let out = response(Op::CustomersGetOrCreate, "getOrCreateCustomer").expect("valid");
    assert_eq!(out["createdAt"], json!(1_771_409_161_016i64));
    assert_eq!(
        out["metadata"],
        json!({"camelCaseKey": {"innerKey": 1, "inner_snake": [1, {"deepKey": null}]}, "snake_key": "v", "nullValue": null})
    );
    // balances are keyed by feature id, kept as they are; their values are converted
    let balances = out["balances"].as_object().expect("object");
    assert_eq!(
        balances.keys().collect::<Vec<_>>(),
        ["messages", "seatsCamelKey"]
    );
    assert_eq!(balances["messages"]["remaining"], 40); // the string "40" read as a number
    assert_eq!(balances["messages"]["breakdown"][0]["includedGrant"], 100);
    // unknown keys are gone
    assert!(out.get("totally_unknown").is_none());
    assert!(out["subscriptions"][0].get("unknown_sub_field").is_none());
    // optional fields that arrived as null are removed; nullable ones keep their null
    assert!(out.get("referrals").is_none() && out.get("invoices").is_none());
    assert_eq!(out["config"], json!({"disablePooledBalance": false}));
    assert_eq!(out["rewards"], Value::Null);
    assert_eq!(out["fingerprint"], Value::Null);
    // defaults the SDK fills in
    assert_eq!(out["billingControls"]["usageAlerts"][0]["basis"], "balance");
    assert_eq!(
        out["billingControls"]["autoTopups"][0]["purchaseLimit"]["intervalCount"],
        1
    );
    // free-form values are untouched
    assert_eq!(
        out["paymentMethod"],
        json!({"type": "card", "card": {"last4": "4242", "expMonth": 1}})
    );
}

#[test]
fn response_is_as_lenient_as_the_sdk() {
    let out = response(Op::CustomersGetOrCreate, "customer_lenient").expect("valid");
    assert_eq!(out["name"], "12");
    assert_eq!(out["createdAt"], json!(1_771_409_161_016i64));
    assert_eq!(out["fingerprint"], "{\"a\":[1,2]}");
    assert_eq!(out["stripeId"], "0");
    assert_eq!(out["env"], "staging"); // unknown enum values pass
    assert_eq!(out["sendEmailReceipts"], true);
    let sub = &out["subscriptions"][0];
    assert_eq!(sub["quantity"], 0);
    assert_eq!(sub["status"], "paused");
    assert_eq!(sub["pastDue"], false);
    assert_eq!(sub["canceledAt"], 16);
    let out = response(Op::ReferralsRedeemCode, "referral_redeem_lenient").expect("valid");
    assert_eq!(
        out,
        json!({"id": "5", "customerId": "", "rewardId": "true"})
    );
}

#[test]
fn response_rejects_what_the_sdk_rejects() {
    for (op, name) in [
        (Op::CustomersGetOrCreate, "customer_missing_required"),
        (Op::CustomersGetOrCreate, "customer_subscriptions_object"),
        (Op::CustomersGetOrCreate, "customer_bad_number"),
        (Op::CustomersGetOrCreate, "customer_bool_number"),
        (Op::EntitiesGet, "entity_not_object"),
        (Op::EventsAggregate, "aggregate_bad_values"),
    ] {
        assert!(response(op, name).is_err(), "{name}");
    }
    let err = response(Op::CustomersGetOrCreate, "customer_missing_required").unwrap_err();
    assert_eq!(
        (err.path.as_str(), err.message.as_str()),
        ("id", "is required")
    );
}

/// Builds `[[[...value...]]]` `depth` levels deep without recursion.
fn nested(depth: usize, inner: Value) -> Value {
    let mut v = inner;
    for _ in 0..depth {
        v = Value::Array(vec![v]);
    }
    v
}

#[test]
fn hostile_nesting_neither_overflows_nor_panics() {
    const DEEP: usize = 200_000;
    // a deep value where a number belongs
    let mut item = Map::new();
    item.insert("featureId".into(), json!("f"));
    item.insert("quantity".into(), nested(DEEP, json!(1)));
    let mut body = Map::new();
    body.insert("customerId".into(), json!("cus_1"));
    body.insert("planId".into(), json!("pro"));
    body.insert(
        "featureQuantities".into(),
        Value::Array(vec![Value::Object(item)]),
    );
    let err = request_to_upstream(Op::BillingAttach, body).expect_err("too deep");
    assert_eq!(err.message, "is nested too deeply");
    // inside user data
    let mut body = Map::new();
    body.insert("customerId".into(), json!("cus_1"));
    body.insert("planId".into(), json!("pro"));
    // (no `json!` around deep values: it serializes its arguments recursively)
    let mut meta = Map::new();
    meta.insert("k".into(), nested(DEEP, json!("v")));
    body.insert("metadata".into(), Value::Object(meta));
    assert!(request_to_upstream(Op::BillingAttach, body).is_err());
    // a deep answer
    let mut answer = Map::new();
    answer.insert("list".into(), Value::Array(vec![nested(DEEP, json!({}))]));
    let err = response_to_browser(Op::PlansList, Value::Object(answer));
    assert_eq!(err.unwrap_err().message, "is nested too deeply");
    // as deep as the service lets through (128): converted, user data intact
    let mut body = Map::new();
    body.insert("customerId".into(), json!("cus_1"));
    body.insert("planId".into(), json!("pro"));
    body.insert(
        "checkoutSessionParams".into(),
        json!({"deep": nested(126, json!(1))}),
    );
    let out = request_to_upstream(Op::BillingAttach, body).expect("valid");
    assert_eq!(
        out["checkout_session_params"]["deep"],
        nested(126, json!(1))
    );
    // a value 120 levels deep where a string belongs in an answer (the SDK would write JSON
    // text): our JSON writer stops at the schema depth limit instead of recursing on
    let (input, _) = fixture("redeemReferralCode", "response");
    let mut input = obj(input);
    input.insert("id".into(), nested(120, json!("x")));
    let err = response_to_browser(Op::ReferralsRedeemCode, Value::Object(input)).unwrap_err();
    assert_eq!(err.path, "id");
}

/// The JSON pointer of every value inside `input` (not the root itself).
fn pointers(input: &Value) -> Vec<String> {
    let mut pointers = Vec::new();
    let mut stack = vec![(String::new(), input)];
    while let Some((p, v)) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    let q = format!("{p}/{}", k.replace('~', "~0").replace('/', "~1"));
                    pointers.push(q.clone());
                    stack.push((q, c));
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    let q = format!("{p}/{i}");
                    pointers.push(q.clone());
                    stack.push((q, c));
                }
            }
            _ => {}
        }
    }
    pointers
}

/// Every fixture with each of its values (at any depth) swapped for every kind of JSON value:
/// the conversions answer, whatever they answer, without panicking.
#[test]
fn no_panics_on_mutated_fixtures() {
    let replacements = [
        Value::Null,
        json!(true),
        json!(0),
        json!(-1.5),
        json!(""),
        json!("0x1F"),
        json!([]),
        json!({}),
        json!([null]),
        json!({"a": null}),
    ];
    let mut calls = 0usize;
    for f in fixtures() {
        let op = op_named(f["op"].as_str().unwrap_or(""));
        let side = f["side"].as_str().unwrap_or("");
        let input = f["input"].clone();
        for p in &pointers(&input) {
            for r in &replacements {
                let mut v = input.clone();
                if let Some(slot) = v.pointer_mut(p) {
                    *slot = r.clone();
                }
                calls += 1;
                if side == "request" {
                    if let Value::Object(m) = v {
                        let _ = request_to_upstream(op, m);
                    }
                } else {
                    let _ = response_to_browser(op, v);
                }
            }
        }
    }
    assert!(calls > 1000, "only {calls} variations");
}

#[test]
fn unions_pick_the_best_fitting_shape() {
    // A purchase limit is either the configured limit or the live one (with its count); the
    // shape that keeps the most of the answer wins.
    let out = response(Op::CustomersGetOrCreate, "union_purchase_limit_full").expect("valid");
    assert_eq!(
        out["billingControls"]["autoTopups"][0]["purchaseLimit"],
        json!({"interval": "week", "intervalCount": 2, "limit": 5, "count": 1, "nextResetAt": 1_773_851_121_437i64})
    );
    let out = response(Op::CustomersGetOrCreate, "union_purchase_limit_coerced").expect("valid");
    assert_eq!(
        out["billingControls"]["autoTopups"][0]["purchaseLimit"],
        json!({"interval": "fortnight", "intervalCount": null, "limit": 5, "count": 1, "nextResetAt": 0})
    );
    // credit schemas: per-feature costs, a cost without a metered feature, graduated tiers
    let out = response(Op::CustomersGetOrCreate, "union_credit_schema").expect("valid");
    let (_, expected) = fixture("union_credit_schema", "response");
    assert_eq!(Some(&out), expected.as_ref());
    assert_eq!(
        out["balances"]["credits"]["feature"]["creditSchema"][1],
        json!({"meteredFeatureId": "", "creditCost": 3, "billingUnits": 10})
    );
    // on requests: a string or an integer
    let out = request(Op::BillingPreviewAttach, "union_anchor_number").expect("valid");
    assert_eq!(out["billing_cycle_anchor"], json!(1_773_851_121_437i64));
    let err = request(Op::BillingPreviewAttach, "union_anchor_fraction").expect_err("fraction");
    assert_eq!(err.path, "billingCycleAnchor");
}

mod streaming;
