//! The offline Autumn (`autumn_tower::offline`): a customer's life through the public API, every answer
//! validated against the response schemas of `spec/autumn-api-2.x.yml`.

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

mod support;

use std::time::Duration;

use autumn_tower::models::{CheckParams, GetOrCreateCustomerParams, TrackParams};
use autumn_tower::offline::{Catalog, Feature, Interval, OfflineAutumn, Plan, PlanItem};
use autumn_tower::{AutumnService, Identity};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use support::fake_autumn::response_violations;
use tower::ServiceExt;

const MONTH: Duration = Duration::from_secs(31 * 24 * 3600);

/// Calls `POST /v1/<op>` on the offline Autumn; returns the status and the body, and checks a
/// success body against the spec's response schema for that path.
async fn call(autumn: &OfflineAutumn, op: &str, body: Value) -> (StatusCode, Value) {
    call_with_key(autumn, op, body, None).await
}

async fn call_with_key(
    autumn: &OfflineAutumn,
    op: &str,
    body: Value,
    idempotency_key: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = Request::post(format!("https://api.useautumn.com/v1/{op}"))
        .header("authorization", format!("Bearer {}", autumn.secret_key()))
        .header("content-type", "application/json");
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = autumn.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).expect("the offline Autumn answers JSON");
    if status.is_success() {
        let violations = response_violations(&format!("/v1/{op}"), &body);
        assert!(
            violations.is_empty(),
            "{op} answered a body the spec rejects:\n{}\n{body:#}",
            violations.join("\n")
        );
    } else {
        assert!(
            body["message"].is_string() && body["code"].is_string(),
            "error bodies carry message and code: {body}"
        );
    }
    (status, body)
}

async fn ok(autumn: &OfflineAutumn, op: &str, body: Value) -> Value {
    let (status, body) = call(autumn, op, body).await;
    assert_eq!(status, StatusCode::OK, "{op}: {body}");
    body
}

fn messages(customer: &Value) -> (f64, f64, f64) {
    let b = &customer["balances"]["messages"];
    (
        b["granted"].as_f64().unwrap(),
        b["usage"].as_f64().unwrap(),
        b["remaining"].as_f64().unwrap(),
    )
}

/// The life the issue describes: first visit, the free allowance used up, a denied check, pro
/// bought through checkout, the pro allowance, a month later the allowance reset.
#[tokio::test]
async fn a_customer_from_first_visit_to_the_second_month_of_pro() {
    let autumn = OfflineAutumn::new();

    // First visit: the free plan with 100 messages.
    let customer = ok(
        &autumn,
        "customers.get_or_create",
        json!({ "customer_id": "alice", "name": "Alice", "email": "alice@example.com" }),
    )
    .await;
    assert_eq!(customer["id"], "alice");
    assert_eq!(customer["name"], "Alice");
    assert_eq!(customer["subscriptions"][0]["plan_id"], "free");
    assert_eq!(customer["subscriptions"][0]["status"], "active");
    assert_eq!(messages(&customer), (100.0, 0.0, 100.0));
    assert!(customer["flags"].as_object().unwrap().is_empty());

    let plans = ok(&autumn, "plans.list", json!({ "customer_id": "alice" })).await;
    let actions: Vec<(&str, &str)> = plans["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap(),
                p["customer_eligibility"]["attach_action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [("free", "none"), ("pro", "upgrade"), ("top_up", "purchase")]
    );

    // 100 messages.
    for i in 0..100 {
        let tracked = ok(
            &autumn,
            "balances.track",
            json!({ "customer_id": "alice", "feature_id": "messages", "properties": { "chatId": i } }),
        )
        .await;
        assert_eq!(tracked["balance"]["remaining"], json!(99.0 - f64::from(i)));
    }

    // The 101st is denied, with a paywall preview offering pro.
    let check = ok(
        &autumn,
        "balances.check",
        json!({ "customer_id": "alice", "feature_id": "messages", "with_preview": true }),
    )
    .await;
    assert_eq!(check["allowed"], false);
    assert_eq!(check["balance"]["remaining"], json!(0.0));
    assert_eq!(check["preview"]["scenario"], "usage_limit");
    let offered: Vec<&str> = check["preview"]["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(offered, ["pro", "top_up"]);
    // Tracking past the allowance deducts nothing more (overage is capped by default).
    let capped = ok(
        &autumn,
        "balances.track",
        json!({ "customer_id": "alice", "feature_id": "messages" }),
    )
    .await;
    assert_eq!(capped["balance"]["usage"], json!(100.0));

    // Attach pro: no payment method yet, so a checkout URL and no change.
    let preview = ok(
        &autumn,
        "billing.preview_attach",
        json!({ "customer_id": "alice", "plan_id": "pro" }),
    )
    .await;
    assert_eq!(preview["total"], json!(20.0));
    assert_eq!(preview["redirect_to_checkout"], true);
    assert_eq!(preview["outgoing"][0]["plan_id"], "free");
    assert_eq!(preview["incoming"][0]["plan_id"], "pro");
    let attach = ok(
        &autumn,
        "billing.attach",
        json!({ "customer_id": "alice", "plan_id": "pro", "success_url": "http://localhost:5173/thanks" }),
    )
    .await;
    let url = attach["payment_url"].as_str().expect("a checkout URL");
    assert!(
        url.starts_with("https://offline.autumn.invalid/checkout/co_"),
        "{url}"
    );
    assert_eq!(autumn.open_checkouts(), [url]);
    let still_free = ok(
        &autumn,
        "customers.get_or_create",
        json!({ "customer_id": "alice" }),
    )
    .await;
    assert_eq!(still_free["subscriptions"][0]["plan_id"], "free");

    // The customer pays.
    assert_eq!(
        autumn.complete_checkout(url).unwrap().as_deref(),
        Some("http://localhost:5173/thanks")
    );
    assert!(
        autumn.complete_checkout(url).is_err(),
        "a checkout completes once"
    );
    let pro = ok(
        &autumn,
        "customers.get_or_create",
        json!({ "customer_id": "alice", "expand": ["invoices"] }),
    )
    .await;
    assert_eq!(pro["subscriptions"].as_array().unwrap().len(), 1);
    assert_eq!(pro["subscriptions"][0]["plan_id"], "pro");
    assert_eq!(messages(&pro), (2000.0, 0.0, 2000.0));
    assert!(pro["flags"]["priority_support"].is_object());
    assert_eq!(pro["invoices"][0]["total"], json!(20.0));
    assert!(pro["stripe_id"].is_string());

    // Allowed again, with the pro allowance; send_event tracks it.
    let check = ok(
        &autumn,
        "balances.check",
        json!({ "customer_id": "alice", "feature_id": "messages", "required_balance": 5, "send_event": true }),
    )
    .await;
    assert_eq!(check["allowed"], true);
    assert_eq!(check["balance"]["granted"], json!(2000.0));
    assert_eq!(check["balance"]["remaining"], json!(1995.0));
    let flag = ok(
        &autumn,
        "balances.check",
        json!({ "customer_id": "alice", "feature_id": "priority_support" }),
    )
    .await;
    assert_eq!(flag["allowed"], true);
    assert_eq!(flag["flag"]["plan_id"], "pro");

    // A month later the allowance is back to 2,000 and the period has rolled over.
    let period_end = pro["subscriptions"][0]["current_period_end"]
        .as_f64()
        .unwrap();
    let reset_at = check["balance"]["next_reset_at"].as_f64().unwrap();
    autumn.advance(MONTH);
    let next_month = ok(
        &autumn,
        "customers.get_or_create",
        json!({ "customer_id": "alice" }),
    )
    .await;
    assert_eq!(messages(&next_month), (2000.0, 0.0, 2000.0));
    assert_eq!(
        next_month["subscriptions"][0]["current_period_start"]
            .as_f64()
            .unwrap(),
        period_end
    );
    assert!(
        next_month["balances"]["messages"]["next_reset_at"]
            .as_f64()
            .unwrap()
            > reset_at
    );

    // The events of that life.
    let events = ok(
        &autumn,
        "events.list",
        json!({ "customer_id": "alice", "limit": 3 }),
    )
    .await;
    assert_eq!(events["list"].as_array().unwrap().len(), 3);
    assert_eq!(events["list"][0]["value"], json!(5.0), "newest first");
    assert_eq!(events["next_cursor"], events["list"][2]["id"]);
    let next = ok(
        &autumn,
        "events.list",
        json!({ "customer_id": "alice", "limit": 1, "start_cursor": events["next_cursor"] }),
    )
    .await;
    assert_eq!(next["list"][0]["value"], json!(1.0));
    assert_ne!(next["list"][0]["id"], events["list"][2]["id"]);
    let aggregate = ok(
        &autumn,
        "events.aggregate",
        json!({ "customer_id": "alice", "feature_id": "messages", "range": "90d" }),
    )
    .await;
    assert_eq!(aggregate["total"]["messages"]["count"], json!(102));
    assert_eq!(aggregate["total"]["messages"]["sum"], json!(106.0));
}

#[tokio::test]
async fn downgrades_wait_for_the_period_end_and_cancellations_bring_the_free_plan_back() {
    let autumn = OfflineAutumn::new();
    ok(
        &autumn,
        "customers.get_or_create",
        json!({ "customer_id": "bob" }),
    )
    .await;
    let setup = ok(
        &autumn,
        "billing.setup_payment",
        json!({ "customer_id": "bob" }),
    )
    .await;
    autumn
        .complete_checkout(setup["url"].as_str().unwrap())
        .unwrap();

    // With a payment method, pro is charged and active at once.
    let attach = ok(
        &autumn,
        "billing.attach",
        json!({ "customer_id": "bob", "plan_id": "pro" }),
    )
    .await;
    assert_eq!(attach["payment_url"], Value::Null);
    assert_eq!(attach["invoice"]["total"], json!(20.0));
    let (status, again) = call(
        &autumn,
        "billing.attach",
        json!({ "customer_id": "bob", "plan_id": "pro" }),
    )
    .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("plan_already_attached"))
    );

    // Back to free: scheduled for the end of the period.
    ok(
        &autumn,
        "billing.attach",
        json!({ "customer_id": "bob", "plan_id": "free" }),
    )
    .await;
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "bob" })).await;
    let subs = customer["subscriptions"].as_array().unwrap();
    assert_eq!(subs.len(), 2);
    assert_eq!(
        (&subs[0]["plan_id"], &subs[0]["status"]),
        (&json!("pro"), &json!("active"))
    );
    assert!(subs[0]["canceled_at"].is_number());
    assert_eq!(
        (&subs[1]["plan_id"], &subs[1]["status"]),
        (&json!("free"), &json!("scheduled"))
    );
    assert_eq!(subs[1]["started_at"], subs[0]["current_period_end"]);

    // Re-attaching pro undoes the pending downgrade.
    ok(
        &autumn,
        "billing.attach",
        json!({ "customer_id": "bob", "plan_id": "pro" }),
    )
    .await;
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "bob" })).await;
    assert_eq!(customer["subscriptions"].as_array().unwrap().len(), 1);
    assert_eq!(customer["subscriptions"][0]["canceled_at"], Value::Null);

    // Cancel at the end of the cycle: pro until then, free after.
    let preview = ok(
        &autumn,
        "billing.preview_update",
        json!({ "customer_id": "bob", "plan_id": "pro", "cancel_action": "cancel_end_of_cycle" }),
    )
    .await;
    assert_eq!(preview["intent"], "cancel_end_of_cycle");
    ok(
        &autumn,
        "billing.update",
        json!({ "customer_id": "bob", "plan_id": "pro", "cancel_action": "cancel_end_of_cycle" }),
    )
    .await;
    let plans = ok(&autumn, "plans.list", json!({ "customer_id": "bob" })).await;
    assert_eq!(plans["list"][1]["customer_eligibility"]["canceling"], true);
    autumn.advance(MONTH);
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "bob" })).await;
    assert_eq!(customer["subscriptions"][0]["plan_id"], "free");
    assert_eq!(messages(&customer), (100.0, 0.0, 100.0));

    // A one-off top-up stacks on the free allowance and never resets.
    ok(
        &autumn,
        "billing.attach",
        json!({ "customer_id": "bob", "plan_id": "top_up" }),
    )
    .await;
    ok(
        &autumn,
        "balances.track",
        json!({ "customer_id": "bob", "feature_id": "messages", "value": 150 }),
    )
    .await;
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "bob" })).await;
    assert_eq!(messages(&customer), (600.0, 150.0, 450.0));
    assert_eq!(customer["purchases"][0]["plan_id"], "top_up");
    autumn.advance(MONTH);
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "bob" })).await;
    // The free 100 reset; the 50 drawn from the top-up stay used.
    assert_eq!(messages(&customer), (600.0, 50.0, 550.0));
}

/// A catalogue with a recurring add-on beside pro, for the multi-plan updates.
fn pro_and_seats() -> Catalog {
    Catalog::new()
        .feature(Feature::metered("messages", "Messages"))
        .feature(Feature::metered("seats", "Seats"))
        .plan(
            Plan::new("free", "Free")
                .auto_enable(true)
                .item(PlanItem::new("messages", 100.0).reset(Interval::Month)),
        )
        .plan(
            Plan::new("pro", "Pro")
                .price(20.0, Interval::Month)
                .item(PlanItem::new("messages", 1000.0).reset(Interval::Month)),
        )
        .plan(
            Plan::new("seats_addon", "Extra seats")
                .add_on(true)
                .price(5.0, Interval::Month)
                .item(PlanItem::new("seats", 5.0)),
        )
}

fn plan_ids(customer: &Value) -> Vec<(String, bool)> {
    customer["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["plan_id"].as_str().unwrap().to_owned(),
                s["canceled_at"].is_number(),
            )
        })
        .collect()
}

#[tokio::test]
async fn multi_update_cancels_tied_plans_together_or_not_at_all() {
    let autumn = OfflineAutumn::with_catalog(pro_and_seats());
    let setup = ok(
        &autumn,
        "billing.setup_payment",
        json!({ "customer_id": "dan" }),
    )
    .await;
    autumn
        .complete_checkout(setup["url"].as_str().unwrap())
        .unwrap();
    ok(
        &autumn,
        "billing.multi_attach",
        json!({ "customer_id": "dan", "plans": [{ "plan_id": "pro" }, { "plan_id": "seats_addon" }] }),
    )
    .await;
    let get = json!({ "customer_id": "dan" });
    let customer = ok(&autumn, "customers.get", get.clone()).await;
    assert_eq!(
        plan_ids(&customer),
        [("pro".to_owned(), false), ("seats_addon".to_owned(), false)]
    );

    let both = |action: &str| {
        json!({
            "customer_id": "dan",
            "updates": [
                { "plan_id": "pro", "cancel_action": action },
                { "plan_id": "seats_addon", "cancel_action": action },
            ],
        })
    };

    // The preview: one core preview per subscription, nothing changed.
    let preview = ok(
        &autumn,
        "billing.preview_multi_update",
        both("cancel_end_of_cycle"),
    )
    .await;
    let subscriptions = preview["subscriptions"].as_array().unwrap();
    assert_eq!(subscriptions.len(), 2);
    assert_eq!(subscriptions[0]["plan_ids"], json!(["pro"]));
    assert_eq!(subscriptions[1]["outgoing"][0]["plan_id"], "seats_addon");
    let period_end = customer["subscriptions"][0]["current_period_end"].clone();
    assert_eq!(subscriptions[0]["outgoing"][0]["expires_at"], period_end);
    assert_eq!(preview["total"], json!(0));
    let unchanged = ok(&autumn, "customers.get", get.clone()).await;
    assert_eq!(plan_ids(&unchanged), plan_ids(&customer));

    // All or nothing: one update that names no active plan changes none.
    let (status, body) = call(
        &autumn,
        "billing.multi_update",
        json!({
            "customer_id": "dan",
            "updates": [
                { "plan_id": "pro", "cancel_action": "cancel_end_of_cycle" },
                { "plan_id": "nope", "cancel_action": "cancel_end_of_cycle" },
            ],
        }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("subscription_not_found"))
    );
    for (body, message) in [
        (
            json!({ "customer_id": "dan", "updates": [] }),
            "`updates` must be a non-empty array",
        ),
        (
            json!({ "customer_id": "dan", "updates": [{ "plan_id": "pro" }] }),
            "`updates[0]`: `cancel_action` is required",
        ),
        (
            json!({ "customer_id": "dan", "updates": [{ "plan_id": "pro", "cancel_action": "pause" }] }),
            "`updates[0]`: `cancel_action` \"pause\" is not one of cancel_end_of_cycle, cancel_immediately, uncancel",
        ),
        (
            json!({ "customer_id": "dan", "updates": [
                { "plan_id": "pro", "cancel_action": "cancel_immediately" },
                { "plan_id": "pro", "cancel_action": "cancel_end_of_cycle" },
            ] }),
            "`updates[0]` and `updates[1]` both change the plan \"pro\"",
        ),
    ] {
        let (status, answer) = call(&autumn, "billing.multi_update", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["message"], message);
    }
    let unchanged = ok(&autumn, "customers.get", get.clone()).await;
    assert_eq!(plan_ids(&unchanged), plan_ids(&customer));

    // Cancel both at the end of the cycle, then take it back, in one call each.
    let answer = ok(&autumn, "billing.multi_update", both("cancel_end_of_cycle")).await;
    assert_eq!(answer["payment_url"], Value::Null);
    let customer = ok(&autumn, "customers.get", get.clone()).await;
    assert_eq!(
        plan_ids(&customer),
        [("pro".to_owned(), true), ("seats_addon".to_owned(), true)]
    );
    ok(&autumn, "billing.multi_update", both("uncancel")).await;
    let customer = ok(&autumn, "customers.get", get.clone()).await;
    assert_eq!(
        plan_ids(&customer),
        [("pro".to_owned(), false), ("seats_addon".to_owned(), false)]
    );

    // Canceled at the end of the cycle: both end with the period, and free comes back.
    ok(&autumn, "billing.multi_update", both("cancel_end_of_cycle")).await;
    autumn.advance(MONTH);
    let customer = ok(&autumn, "customers.get", get.clone()).await;
    assert_eq!(plan_ids(&customer), [("free".to_owned(), false)]);

    // An entity's plans: the update's entity_id overrides the top-level one.
    ok(
        &autumn,
        "entities.create",
        json!({ "customer_id": "dan", "entity_id": "seat_1", "feature_id": "seats" }),
    )
    .await;
    ok(
        &autumn,
        "billing.attach",
        json!({ "customer_id": "dan", "entity_id": "seat_1", "plan_id": "seats_addon" }),
    )
    .await;
    ok(
        &autumn,
        "billing.multi_update",
        json!({
            "customer_id": "dan",
            "updates": [{ "plan_id": "seats_addon", "entity_id": "seat_1", "cancel_action": "cancel_immediately" }],
        }),
    )
    .await;
    let entity = ok(
        &autumn,
        "entities.get",
        json!({ "customer_id": "dan", "entity_id": "seat_1" }),
    )
    .await;
    assert_eq!(entity["subscriptions"], json!([]));
}

/// Every operation of the spec is either implemented or answers 501 naming its path and why.
#[tokio::test]
async fn every_operation_of_the_spec_is_implemented_or_answers_501_with_a_reason() {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/spec/autumn-api-2.x.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let paths: Vec<&str> = spec["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| p.strip_prefix("/v1/").unwrap())
        .collect();
    assert_eq!(paths.len(), 67);
    let autumn = OfflineAutumn::new();
    let mut implemented = Vec::new();
    for op in paths {
        let (status, body) = call(&autumn, op, json!({})).await;
        if status == StatusCode::NOT_IMPLEMENTED {
            let message = body["message"].as_str().unwrap();
            assert!(
                message.starts_with(&format!(
                    "The offline Autumn does not implement POST /v1/{op}: "
                )),
                "{body}"
            );
        } else {
            implemented.push(op);
        }
    }
    assert_eq!(implemented.len(), 31, "{implemented:?}");
    assert!(implemented.contains(&"billing.multi_update"));
    assert!(implemented.contains(&"billing.preview_multi_update"));
}

#[tokio::test]
async fn idempotency_keys_entities_referrals_and_errors() {
    let autumn = OfflineAutumn::new();
    let track = json!({ "customer_id": "carol", "feature_id": "messages", "value": 10 });
    let (status, _) = call_with_key(&autumn, "balances.track", track.clone(), Some("k1")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call_with_key(&autumn, "balances.track", track, Some("k1")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "duplicate_idempotency_key");
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "carol" })).await;
    assert_eq!(messages(&customer).1, 10.0, "the repeat changed nothing");

    // Entities: each seat has its own copy of the allowance.
    let seat = ok(
        &autumn,
        "entities.create",
        json!({ "customer_id": "carol", "entity_id": "seat_1", "feature_id": "messages", "name": "Seat 1" }),
    )
    .await;
    assert_eq!(seat["balances"]["messages"]["remaining"], json!(100.0));
    let expanded = ok(
        &autumn,
        "customers.get",
        json!({ "customer_id": "carol", "expand": ["entities"] }),
    )
    .await;
    assert_eq!(expanded["entities"][0]["id"], "seat_1");
    assert_eq!(expanded["entities"][0]["name"], "Seat 1");
    ok(
        &autumn,
        "balances.track",
        json!({ "customer_id": "carol", "entity_id": "seat_1", "feature_id": "messages", "value": 30 }),
    )
    .await;
    let seat = ok(
        &autumn,
        "entities.get",
        json!({ "customer_id": "carol", "entity_id": "seat_1" }),
    )
    .await;
    assert_eq!(seat["balances"]["messages"]["remaining"], json!(70.0));
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "carol" })).await;
    assert_eq!(
        messages(&customer).2,
        90.0,
        "the customer's own balance is untouched"
    );
    let list = ok(&autumn, "entities.list", json!({ "customer_id": "carol" })).await;
    assert_eq!(list["list"].as_array().unwrap().len(), 1);
    ok(
        &autumn,
        "entities.delete",
        json!({ "customer_id": "carol", "entity_id": "seat_1" }),
    )
    .await;
    let (status, _) = call(
        &autumn,
        "entities.get",
        json!({ "customer_id": "carol", "entity_id": "seat_1" }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Referrals.
    let code = ok(
        &autumn,
        "referrals.create_code",
        json!({ "customer_id": "carol", "program_id": "friends" }),
    )
    .await;
    let same = ok(
        &autumn,
        "referrals.create_code",
        json!({ "customer_id": "carol", "program_id": "friends" }),
    )
    .await;
    assert_eq!(code["code"], same["code"]);
    ok(
        &autumn,
        "referrals.redeem_code",
        json!({ "customer_id": "dave", "code": code["code"] }),
    )
    .await;
    let (status, _) = call(
        &autumn,
        "referrals.redeem_code",
        json!({ "customer_id": "carol", "code": code["code"] }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no self-referral");

    // The other read operations.
    ok(&autumn, "features.list", json!({})).await;
    ok(&autumn, "features.get", json!({ "feature_id": "messages" })).await;
    ok(&autumn, "plans.get", json!({ "plan_id": "pro" })).await;
    ok(&autumn, "customers.list", json!({ "limit": 1 })).await;
    ok(
        &autumn,
        "billing.open_customer_portal",
        json!({ "customer_id": "carol" }),
    )
    .await;
    ok(
        &autumn,
        "billing.preview_multi_attach",
        json!({ "customer_id": "carol", "plans": [{ "plan_id": "pro" }, { "plan_id": "top_up" }] }),
    )
    .await;
    let multi = ok(
        &autumn,
        "billing.multi_attach",
        json!({ "customer_id": "carol", "plans": [{ "plan_id": "pro" }, { "plan_id": "top_up" }] }),
    )
    .await;
    assert!(multi["payment_url"].is_string());
    ok(
        &autumn,
        "customers.update",
        json!({ "customer_id": "carol", "name": "Carol", "metadata": { "fooBar": 1 } }),
    )
    .await;
    ok(
        &autumn,
        "customers.delete",
        json!({ "customer_id": "dave" }),
    )
    .await;

    // Errors: clear codes, never a fake success.
    for (op, body, status, code) in [
        (
            "billing.attach",
            json!({ "customer_id": "carol", "plan_id": "nope" }),
            404,
            "plan_not_found",
        ),
        (
            "balances.check",
            json!({ "customer_id": "carol", "feature_id": "nope" }),
            404,
            "feature_not_found",
        ),
        (
            "customers.get",
            json!({ "customer_id": "nobody" }),
            404,
            "customer_not_found",
        ),
        (
            "balances.track",
            json!({ "feature_id": "messages" }),
            400,
            "invalid_request",
        ),
        (
            "balances.track",
            json!({ "customer_id": "carol", "feature_id": "messages", "value": "ten" }),
            400,
            "invalid_request",
        ),
        (
            "billing.update",
            json!({ "customer_id": "carol", "plan_id": "free", "feature_quantities": [{ "feature_id": "messages", "quantity": 3 }] }),
            501,
            "not_implemented",
        ),
        ("invoices.list", json!({}), 501, "not_implemented"),
    ] {
        let (got, body) = call(&autumn, op, body).await;
        assert_eq!(
            (got.as_u16(), body["code"].as_str().unwrap()),
            (status, code),
            "{op}: {body}"
        );
        if status == 501 {
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(op), "{body}");
        }
    }

    // Reset forgets everyone.
    autumn.reset();
    let (status, _) = call(&autumn, "customers.get", json!({ "customer_id": "carol" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_catalogue_built_in_code_and_the_typed_client() {
    let catalog = Catalog::new()
        .feature(Feature::metered("api_calls", "API calls"))
        .plan(
            Plan::new("hobby", "Hobby")
                .auto_enable(true)
                .item(PlanItem::new("api_calls", 3.0).reset(Interval::Day)),
        );
    let autumn = OfflineAutumn::with_catalog(catalog);
    let client = autumn.client();
    client
        .customers()
        .get_or_create(&GetOrCreateCustomerParams::new("erin"))
        .await
        .unwrap();
    client
        .balances()
        .track(&TrackParams::new("erin", "api_calls", 3.0))
        .await
        .unwrap();
    let check = client
        .balances()
        .check(&CheckParams::new("erin", "api_calls"))
        .await
        .unwrap();
    assert!(!check.allowed);
    autumn.advance(Duration::from_secs(24 * 3600));
    let check = client
        .balances()
        .check(&CheckParams::new("erin", "api_calls"))
        .await
        .unwrap();
    assert!(check.allowed, "the daily allowance reset");

    let error = Catalog::from_json(
        r#"{"features":[],"plans":[{"id":"p","name":"P","items":[{"feature_id":"ghost"}]}]}"#,
    )
    .unwrap_err();
    assert!(error.to_string().contains("ghost"), "{error}");
    assert!(Catalog::from_json(r#"{"plans":[{"id":"p","name":"P","colour":"red"}]}"#).is_err());
}

/// The browser routes on the offline Autumn: autumn-js's camelCase answers come out of it.
#[tokio::test]
async fn autumn_service_on_the_offline_autumn() {
    let autumn = OfflineAutumn::new();
    let identify = |_: &http::request::Parts| {
        std::future::ready(Ok::<_, std::convert::Infallible>(Some(Identity::new(
            "frank",
        ))))
    };
    let service = AutumnService::new(autumn.client(), identify);
    let post = |route: &str, body: Value| {
        Request::post(format!("/api/autumn/{route}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap()
    };
    let response = service
        .clone()
        .oneshot(post("getOrCreateCustomer", json!({})))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let customer: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(customer["id"], "frank");
    assert_eq!(customer["balances"]["messages"]["granted"], json!(100));
    assert!(customer["createdAt"].is_number(), "{customer}");

    let response = service
        .clone()
        .oneshot(post("attach", json!({ "planId": "pro" })))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let attach: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert!(
        attach["paymentUrl"]
            .as_str()
            .unwrap()
            .contains("/checkout/"),
        "{attach}"
    );

    let response = service
        .clone()
        .oneshot(post("listPlans", json!({})))
        .await
        .unwrap();
    let plans: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(
        plans["list"][1]["customerEligibility"]["attachAction"],
        "upgrade"
    );
}

/// Served on a port: the API for non-Rust tools, and checkout pages a browser can "pay" on.
#[tokio::test]
async fn served_on_a_port_a_browser_pays_on_the_checkout_page() {
    let autumn = OfflineAutumn::new();
    let server = autumn.serve("127.0.0.1:0").await.unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let send = |method: http::Method, path: &str, body: Option<Value>| {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", server.url()))
            .header("authorization", "Bearer am_sk_offline");
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .unwrap();
        client.request(request)
    };
    let response = send(
        http::Method::POST,
        "/v1/billing.attach",
        Some(json!({ "customer_id": "gina", "plan_id": "pro", "success_url": "http://localhost:5173/ok" })),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let attach: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let url = attach["payment_url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{}/checkout/", server.url())),
        "{url}"
    );
    let path = url.strip_prefix(&server.url()).unwrap().to_owned();

    let page = send(http::Method::GET, &path, None).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = String::from_utf8(
        page.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(
        html.contains("Pro ($20 month)") && html.contains("gina"),
        "{html}"
    );

    // The page's form carries its token (a POST without it answers 403: tests/offline_security.rs).
    let token = html
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a token")
        .to_owned();
    let paid = client
        .request(
            Request::post(format!("{}{path}", server.url()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Full::new(Bytes::from(format!("token={token}"))))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(paid.status(), StatusCode::SEE_OTHER);
    assert_eq!(paid.headers()["location"], "http://localhost:5173/ok");
    let customer = send(
        http::Method::POST,
        "/v1/customers.get",
        Some(json!({ "customer_id": "gina" })),
    )
    .await
    .unwrap();
    let customer: Value =
        serde_json::from_slice(&customer.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(customer["subscriptions"][0]["plan_id"], "pro");

    let missing = send(http::Method::POST, "/v1/customers.get", None)
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let unknown = send(http::Method::POST, "/v1/rewards.list", Some(json!({})))
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_IMPLEMENTED);
    server.shutdown().await;
}

/// The example of the README's "Testing your app without Autumn", run.
#[tokio::test]
async fn free_users_get_100_messages_a_month() {
    let autumn = OfflineAutumn::new();
    let client = autumn.client();
    let messages = CheckParams::new("ann", "messages");
    client
        .balances()
        .track(&TrackParams::new("ann", "messages", 100.0))
        .await
        .unwrap();
    assert!(!client.balances().check(&messages).await.unwrap().allowed);
    autumn.advance(Duration::from_secs(31 * 24 * 3600));
    assert!(client.balances().check(&messages).await.unwrap().allowed);
}

/// Every typed client method against the offline Autumn: each answer decodes into its model with no
/// field left over in `extra` (the offline Autumn speaks exactly the spec's shapes).
#[tokio::test]
async fn every_typed_method_decodes_the_offline_answers() {
    use autumn_tower::models::*;
    let autumn = OfflineAutumn::new();
    let client = autumn.client();
    let mut leftovers: Vec<String> = Vec::new();
    let mut note = |what: &str, fields: Vec<String>| {
        leftovers.extend(fields.into_iter().map(|f| format!("{what}: {f}")));
    };

    let c = client
        .customers()
        .get_or_create(&GetOrCreateCustomerParams::new("hana").name("Hana"))
        .await
        .unwrap();
    assert_eq!(c.subscriptions[0].plan_id, "free");
    note("get_or_create", c.unknown_fields());
    let setup = client
        .billing()
        .setup_payment(&SetupPaymentParams::new("hana"))
        .await
        .unwrap();
    note("setup_payment", setup.unknown_fields());
    autumn.complete_checkout(&setup.url).unwrap();
    let preview = client
        .billing()
        .preview_attach(&AttachParams::new("hana", "pro"))
        .await
        .unwrap();
    note("preview_attach", preview.unknown_fields());
    let attach = client
        .billing()
        .attach(&AttachParams::new("hana", "pro"))
        .await
        .unwrap();
    note("attach", attach.unknown_fields());
    let multi = MultiAttachParams::new("hana", vec![PlanToAttach::new("top_up")]);
    note(
        "preview_multi_attach",
        client
            .billing()
            .preview_multi_attach(&multi)
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "multi_attach",
        client
            .billing()
            .multi_attach(&multi)
            .await
            .unwrap()
            .unknown_fields(),
    );
    let cancel = UpdateSubscriptionParams::new("hana")
        .plan_id("pro")
        .cancel_action("cancel_end_of_cycle");
    note(
        "preview_update",
        client
            .billing()
            .preview_update(&cancel)
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "update",
        client
            .billing()
            .update(&cancel)
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "open_customer_portal",
        client
            .billing()
            .open_customer_portal(&OpenCustomerPortalParams::new("hana"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    let check = client
        .balances()
        .check(&CheckParams::new("hana", "messages"))
        .await
        .unwrap();
    assert!(check.allowed);
    note("check", check.unknown_fields());
    note(
        "track",
        client
            .balances()
            .track(&TrackParams::new("hana", "messages", 3.0))
            .await
            .unwrap()
            .unknown_fields(),
    );
    let entity = client
        .entities()
        .create(&CreateEntityParams::new("hana", "seat_1", "messages"))
        .await
        .unwrap();
    note("entities.create", entity.unknown_fields());
    note(
        "entities.get",
        client
            .entities()
            .get(&GetEntityParams::new("seat_1").customer_id("hana"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "entities.update",
        client
            .entities()
            .update(&UpdateEntityParams::new("seat_1").customer_id("hana"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "entities.list",
        client
            .entities()
            .list(&ListEntitiesParams::new().customer_id("hana"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "entities.delete",
        client
            .entities()
            .delete(&DeleteEntityParams::new("seat_1").customer_id("hana"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "plans.list",
        client
            .plans()
            .list(&ListPlansParams::new().customer_id("hana"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "plans.get",
        client
            .plans()
            .get(&GetPlanParams::new("pro"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "features.list",
        client
            .features()
            .list(&ListFeaturesParams::new())
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "features.get",
        client
            .features()
            .get(&GetFeatureParams::new("messages"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "events.list",
        client
            .events()
            .list(&ListEventsParams::new().customer_id("hana"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "events.aggregate",
        client
            .events()
            .aggregate(&AggregateEventsParams::new("messages").customer_id("hana"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    let code = client
        .referrals()
        .create_code(&CreateReferralCodeParams::new("hana", "friends"))
        .await
        .unwrap();
    note("create_code", code.unknown_fields());
    note(
        "redeem_code",
        client
            .referrals()
            .redeem_code(&RedeemReferralCodeParams::new("ivan", code.code.clone()))
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "customers.update",
        client
            .customers()
            .update(&UpdateCustomerParams::new("hana").email("hana@example.com"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "customers.get",
        client
            .customers()
            .get(&GetCustomerParams::new("hana"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "customers.list",
        client
            .customers()
            .list(&ListCustomersParams::new())
            .await
            .unwrap()
            .unknown_fields(),
    );
    note(
        "customers.delete",
        client
            .customers()
            .delete(&DeleteCustomerParams::new("ivan"))
            .await
            .unwrap()
            .unknown_fields(),
    );
    assert!(
        leftovers.is_empty(),
        "answers with fields the models do not know: {leftovers:#?}"
    );
}

/// A check with a lock holds the units (a second check sees less), `confirm` keeps them and
/// records one event, `override_value` records another amount instead.
#[tokio::test]
async fn a_lock_holds_units_until_confirmed() {
    let autumn = OfflineAutumn::new();
    let lock = |id: &str| json!({ "lock_id": id, "enabled": true });
    let held = ok(
        &autumn,
        "balances.check",
        json!({ "customer_id": "lena", "feature_id": "messages", "required_balance": 60,
                "lock": lock("l1") }),
    )
    .await;
    assert_eq!(held["allowed"], true);
    assert_eq!(held["balance"]["remaining"], json!(40.0));
    // The held units are gone for everyone else until the lock is finalized.
    let second = ok(
        &autumn,
        "balances.check",
        json!({ "customer_id": "lena", "feature_id": "messages", "required_balance": 60,
                "lock": lock("l2") }),
    )
    .await;
    assert_eq!(second["allowed"], false);
    // A denied check holds nothing: its lock id is unknown.
    let (status, body) = call(
        &autumn,
        "balances.finalize",
        json!({ "lock_id": "l2", "action": "release" }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("lock_not_found"))
    );
    let events = ok(&autumn, "events.list", json!({ "customer_id": "lena" })).await;
    assert_eq!(
        events["list"].as_array().unwrap().len(),
        0,
        "a hold is not an event yet"
    );

    let done = ok(
        &autumn,
        "balances.finalize",
        json!({ "lock_id": "l1", "action": "confirm" }),
    )
    .await;
    assert_eq!(done, json!({ "success": true }));
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "lena" })).await;
    assert_eq!(messages(&customer), (100.0, 60.0, 40.0));
    let events = ok(&autumn, "events.list", json!({ "customer_id": "lena" })).await;
    assert_eq!(events["list"].as_array().unwrap().len(), 1);
    assert_eq!(events["list"][0]["value"], json!(60.0));
    // Finalized once: a second confirm finds no lock.
    let (status, _) = call(
        &autumn,
        "balances.finalize",
        json!({ "lock_id": "l1", "action": "confirm" }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Confirming another amount records that amount.
    ok(
        &autumn,
        "balances.check",
        json!({ "customer_id": "lena", "feature_id": "messages", "required_balance": 30,
                "lock": lock("l3") }),
    )
    .await;
    ok(
        &autumn,
        "balances.finalize",
        json!({ "lock_id": "l3", "action": "confirm", "override_value": 5 }),
    )
    .await;
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "lena" })).await;
    assert_eq!(messages(&customer), (100.0, 65.0, 35.0));
}

/// `release` and expiry give the held units back; bad finalize calls answer like Autumn.
#[tokio::test]
async fn a_released_or_expired_lock_gives_the_units_back() {
    let autumn = OfflineAutumn::new();
    ok(
        &autumn,
        "balances.check",
        json!({ "customer_id": "omar", "feature_id": "messages", "required_balance": 70,
                "lock": { "lock_id": "r1", "enabled": true } }),
    )
    .await;
    // A held id cannot be taken twice.
    let (status, body) = call(
        &autumn,
        "balances.check",
        json!({ "customer_id": "omar", "feature_id": "messages",
                "lock": { "lock_id": "r1", "enabled": true } }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("lock_already_exists"))
    );
    ok(
        &autumn,
        "balances.finalize",
        json!({ "lock_id": "r1", "action": "release" }),
    )
    .await;
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "omar" })).await;
    assert_eq!(messages(&customer), (100.0, 0.0, 100.0));

    // Expiry: the clock passes `expires_at` and the hold is gone.
    let now_ms = autumn
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64;
    ok(
        &autumn,
        "balances.check",
        json!({ "customer_id": "omar", "feature_id": "messages", "required_balance": 90,
                "lock": { "lock_id": "e1", "enabled": true, "expires_at": now_ms + 1000.0 } }),
    )
    .await;
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "omar" })).await;
    assert_eq!(messages(&customer), (100.0, 90.0, 10.0));
    autumn.advance(Duration::from_secs(2));
    let customer = ok(&autumn, "customers.get", json!({ "customer_id": "omar" })).await;
    assert_eq!(messages(&customer), (100.0, 0.0, 100.0));
    let (status, _) = call(
        &autumn,
        "balances.finalize",
        json!({ "lock_id": "e1", "action": "confirm" }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A disabled lock holds nothing.
    ok(
        &autumn,
        "balances.check",
        json!({ "customer_id": "omar", "feature_id": "messages",
                "lock": { "lock_id": "d1", "enabled": false } }),
    )
    .await;
    let (status, _) = call(
        &autumn,
        "balances.finalize",
        json!({ "lock_id": "d1", "action": "release" }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    for (body, code) in [
        (
            json!({ "lock_id": "x", "action": "keep" }),
            "invalid_request",
        ),
        (json!({ "action": "confirm" }), "invalid_request"),
        (json!({ "lock_id": "x" }), "invalid_request"),
        (
            json!({ "lock_id": "x", "action": "confirm", "override_value": -1 }),
            "invalid_request",
        ),
    ] {
        let (status, answer) = call(&autumn, "balances.finalize", body.clone()).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{body}"
        );
    }
}

/// The typed client's `balances().finalize(..)` against the offline Autumn.
#[tokio::test]
async fn the_typed_client_finalizes_locks() {
    use autumn_tower::models::{BalanceLock, FinalizeParams};
    let autumn = OfflineAutumn::new();
    let client = autumn.client();
    let check = client
        .balances()
        .check(
            &CheckParams::new("pia", "messages")
                .required_balance(100.0)
                .lock(BalanceLock::new("t1", true)),
        )
        .await
        .unwrap();
    assert!(check.allowed);
    let denied = client
        .balances()
        .check(&CheckParams::new("pia", "messages"))
        .await
        .unwrap();
    assert!(!denied.allowed, "all 100 are held");
    let done = client
        .balances()
        .finalize(&FinalizeParams::new("t1", "release"))
        .await
        .unwrap();
    assert!(done.success);
    let again = client
        .balances()
        .check(&CheckParams::new("pia", "messages"))
        .await
        .unwrap();
    assert!(again.allowed);
    let err = client
        .balances()
        .finalize(&FinalizeParams::new("t1", "release"))
        .await
        .unwrap_err();
    assert_eq!(err.api().map(|a| a.code()), Some("lock_not_found"));
}
