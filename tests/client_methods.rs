//! Every typed client method against the spec-driven fake Autumn on 127.0.0.1 (`tests/support`).
//!
//! For each method: the request must be exactly the expected one (method, path, no query, the
//! headers every call carries, the JSON body byte-for-byte as a value) and valid against the spec's
//! request schema; the answer is the fake's generated response for the operation (every field
//! populated, nested objects expanded, user-keyed maps holding `camelCaseKey` and `snake_key`), plus
//! an unknown top-level field and, where the operation has one, an unknown enum value. It must decode,
//! keep the unknown field in `extra`, keep the map keys, and serialise back to the same JSON.

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

mod support;

use support::numbers_as_f64;

use std::future::Future;

use autumn_tower::models::*;
use autumn_tower::{Client, RetryPolicy};
use serde::Serialize;
use serde_json::{json, Map, Value};
use support::fake_autumn::client_builder;
use support::{FakeAutumn, Fault};

const KEY: &str = "am_sk_test_methods";
const UNKNOWN: &str = "zz_field_from_the_future";

fn client(url: &str) -> Client {
    client_builder(url, KEY).build().unwrap()
}

/// A JSON object from a `json!` literal.
fn obj(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// Serves the spec's answer for `path` (edited by `edit`, plus [`UNKNOWN`] at the top level), runs
/// `call`, checks the request it sent, and that the typed answer writes back the same JSON.
async fn exercise<T, F, Fut>(
    path: &str,
    expected_body: Value,
    edit: impl FnOnce(&mut Value),
    call: F,
) -> (T, Value)
where
    T: Serialize + UnknownFields,
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<T, autumn_tower::Error>>,
{
    let fake = FakeAutumn::start().await;
    let mut answer = fake.response_for(path).expect("an operation of the spec");
    answer
        .as_object_mut()
        .expect("an object answer")
        .insert(UNKNOWN.into(), json!({"nestedCamelKey": [1, "two"]}));
    edit(&mut answer);
    fake.script(
        path,
        Fault::Status {
            status: 200,
            body: answer.clone(),
        },
    );

    let typed = call(client(&fake.url()))
        .await
        .unwrap_or_else(|e| panic!("{path}: {e:?}"));

    let seen = fake.requests();
    assert_eq!(seen.len(), 1, "{path}: one request");
    let req = &seen[0];
    assert_eq!(req.method, "POST", "{path}");
    assert_eq!(req.path, path);
    assert_eq!(req.query, None, "{path}: no query string");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(req.header("x-api-version"), Some("2.4.0"), "{path}");
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("accept"), Some("application/json"));
    assert!(
        req.header("user-agent")
            .is_some_and(|ua| ua.starts_with("autumn-rs/")),
        "{path}: {:?}",
        req.header("user-agent")
    );
    if expected_body.is_null() {
        assert_eq!(req.raw_body, "", "{path}: no body");
    } else {
        assert_eq!(req.body.as_ref(), Some(&expected_body), "{path}: body sent");
    }
    fake.assert_no_violations();

    assert_eq!(
        numbers_as_f64(serde_json::to_value(&typed).unwrap()),
        numbers_as_f64(answer.clone()),
        "{path}: the typed answer writes back what was received"
    );
    // Every field of the spec is typed, at every depth: only the injected ones are unknown.
    let unknown = typed.unknown_fields();
    assert!(
        unknown.contains(&format!(".{UNKNOWN}"))
            && unknown
                .iter()
                .all(|p| *p == format!(".{UNKNOWN}") || p.ends_with(".zz_nested")),
        "{path}: {unknown:?}"
    );
    (typed, answer)
}

/// The top-level `extra` holds the unknown field and nothing else: every spec field is typed.
fn only_unknown(extra: &Map<String, Value>) {
    assert_eq!(extra.keys().collect::<Vec<_>>(), [UNKNOWN]);
    assert_eq!(extra[UNKNOWN], json!({"nestedCamelKey": [1, "two"]}));
}

const MAP_KEYS: [&str; 2] = ["camelCaseKey", "snake_key"];

fn keys<V>(map: &std::collections::BTreeMap<String, V>) -> Vec<&str> {
    map.keys().map(String::as_str).collect()
}

/// What every customer answer must carry through typed.
fn check_customer(c: &Customer, answer: &Value) {
    only_unknown(&c.extra);
    assert_eq!(keys(&c.balances), MAP_KEYS);
    assert_eq!(keys(&c.flags), MAP_KEYS);
    assert_eq!(
        c.metadata.keys().collect::<Vec<_>>(),
        MAP_KEYS,
        "metadata keys"
    );
    let balance = &c.balances["camelCaseKey"];
    assert_eq!(
        balance.feature_id,
        answer["balances"]["camelCaseKey"]["feature_id"]
    );
    assert_eq!(
        balance.feature.as_ref().unwrap().id,
        answer["balances"]["camelCaseKey"]["feature"]["id"]
    );
    assert!(balance.extra.is_empty(), "{:?}", balance.extra);
    let sub = &c.subscriptions[0];
    assert_eq!(sub.plan_id, answer["subscriptions"][0]["plan_id"]);
    let plan = sub.plan.as_ref().expect("an expanded plan");
    assert_eq!(
        plan.items[0].feature_id,
        answer["subscriptions"][0]["plan"]["items"][0]["feature_id"]
    );
    assert!(plan.extra.is_empty() && sub.extra.is_empty());
    assert!(c.billing_controls.extra.is_empty());
    assert_eq!(
        c.billing_controls.auto_topups.as_ref().unwrap()[0].feature_id,
        answer["billing_controls"]["auto_topups"][0]["feature_id"]
    );
}

// ---------------------------------------------------------------------------------------------
// customers

#[tokio::test]
async fn customers_get_or_create() {
    let params = GetOrCreateCustomerParams::new("user_1")
        .name("Ada")
        .email("ada@example.com")
        .metadata(obj(json!({"fooBar": 1, "snake_case": {"innerKey": true}})))
        .auto_enable_plan_id("free")
        .expand(vec!["invoices".to_owned(), "balances.feature".to_owned()]);
    let (c, answer) = exercise(
        "/v1/customers.get_or_create",
        json!({"customer_id": "user_1", "name": "Ada", "email": "ada@example.com",
               "metadata": {"fooBar": 1, "snake_case": {"innerKey": true}},
               "auto_enable_plan_id": "free", "expand": ["invoices", "balances.feature"]}),
        |a| a["env"] = json!("staging_eu"),
        |client| async move { client.customers().get_or_create(&params).await },
    )
    .await;
    assert_eq!(c.env, "staging_eu", "an unknown enum value is kept");
    assert_eq!(c.id.as_deref(), answer["id"].as_str());
    check_customer(&c, &answer);
}

#[tokio::test]
async fn customers_get() {
    let params = GetCustomerParams::new("user_1").expand(vec!["entities".to_owned()]);
    let (c, answer) = exercise(
        "/v1/customers.get",
        json!({"customer_id": "user_1", "expand": ["entities"]}),
        |a| {
            a["subscriptions"][0]["status"] = json!("paused_by_admin");
            a["subscriptions"][0]["zz_nested"] = json!(true);
        },
        |client| async move { client.customers().get(&params).await },
    )
    .await;
    assert_eq!(c.subscriptions[0].status, "paused_by_admin");
    assert_eq!(c.subscriptions[0].extra["zz_nested"], json!(true));
    assert_eq!(
        c.unknown_fields(),
        [
            ".subscriptions[0].zz_nested".to_owned(),
            format!(".{UNKNOWN}")
        ]
    );
    assert_eq!(
        c.entities.as_ref().unwrap()[0].feature_id.as_deref(),
        answer["entities"][0]["feature_id"].as_str()
    );
    assert_eq!(
        c.invoice_previews.as_ref().unwrap()[0].line_items[0].plan_id,
        answer["invoice_previews"][0]["line_items"][0]["plan_id"]
    );
    // (the nested unknown field checked, the rest of the customer is as usual)
    let mut c = c;
    c.subscriptions[0].extra.clear();
    check_customer(&c, &answer);
}

#[tokio::test]
async fn customers_list() {
    let params = ListCustomersParams::new()
        .limit(10)
        .start_cursor("cur_1")
        .plans(vec![PlanFilter::new("pro").versions(vec![1.0, 2.0])])
        .processors(vec!["stripe".to_owned()])
        .created_at_range(TimeRange::new().start(1.0).end(2.0));
    let (page, answer) = exercise(
        "/v1/customers.list",
        json!({"start_cursor": "cur_1", "limit": 10, "plans": [{"id": "pro", "versions": [1.0, 2.0]}],
               "processors": ["stripe"], "created_at_range": {"start": 1.0, "end": 2.0}}),
        |a| a["list"][0]["env"] = json!("preview"),
        |client| async move { client.customers().list(&params).await },
    )
    .await;
    only_unknown(&page.extra);
    assert_eq!(page.next_cursor.as_deref(), answer["next_cursor"].as_str());
    assert_eq!(page.list[0].env, "preview");
    assert_eq!(keys(&page.list[0].balances), MAP_KEYS);
}

#[tokio::test]
async fn customers_update() {
    let params = UpdateCustomerParams::new("user_1")
        .name("Ada L.")
        .metadata(obj(json!({"fooBar": "x"})))
        .billing_controls(BillingControls::new().usage_limits(vec![
            UsageLimit::new("messages", 100.0, "month")
                .filter(PropertyFilter::new(obj(json!({"modelName": "gpt"})))),
        ]))
        .config(CustomerConfig::new().disable_pooled_balance(true))
        .new_customer_id("user_2");
    let (c, answer) = exercise(
        "/v1/customers.update",
        json!({"customer_id": "user_1", "name": "Ada L.", "metadata": {"fooBar": "x"},
               "billing_controls": {"usage_limits": [{"feature_id": "messages", "limit": 100.0,
                   "interval": "month", "filter": {"properties": {"modelName": "gpt"}}}]},
               "config": {"disable_pooled_balance": true}, "new_customer_id": "user_2"}),
        |a| {
            a["flags"]["camelCaseKey"]["feature"]["type"] = json!("quantum");
            a["balances"]["snake_key"]["breakdown"][0]["zz_nested"] = json!(1);
        },
        |client| async move { client.customers().update(&params).await },
    )
    .await;
    assert_eq!(
        c.unknown_fields(),
        [
            r#".balances["snake_key"].breakdown[0].zz_nested"#.to_owned(),
            format!(".{UNKNOWN}")
        ]
    );
    let mut c = c;
    c.balances
        .get_mut("snake_key")
        .unwrap()
        .breakdown
        .as_mut()
        .unwrap()[0]
        .extra
        .clear();
    assert_eq!(
        c.flags["camelCaseKey"].feature.as_ref().unwrap().r#type,
        "quantum"
    );
    check_customer(&c, &answer);
}

#[tokio::test]
async fn customers_delete() {
    let params = DeleteCustomerParams::new("user_1").delete_in_stripe(true);
    let (r, _) = exercise(
        "/v1/customers.delete",
        json!({"customer_id": "user_1", "delete_in_stripe": true}),
        |_| {},
        |client| async move { client.customers().delete(&params).await },
    )
    .await;
    assert!(r.success);
    only_unknown(&r.extra);
}

// ---------------------------------------------------------------------------------------------
// entities

fn check_entity(e: &Entity, answer: &Value) {
    only_unknown(&e.extra);
    assert_eq!(e.id.as_deref(), answer["id"].as_str());
    assert_eq!(keys(&e.balances), MAP_KEYS);
    assert_eq!(keys(&e.flags), MAP_KEYS);
    assert_eq!(
        e.subscriptions[0].plan_id,
        answer["subscriptions"][0]["plan_id"]
    );
    assert_eq!(
        e.invoices.as_ref().unwrap()[0].stripe_id,
        answer["invoices"][0]["stripe_id"]
    );
}

#[tokio::test]
async fn entities_create() {
    let params = CreateEntityParams::new("user_1", "seat_1", "seats")
        .name("Seat one")
        .customer_data(CustomerData::new().email("ada@example.com"));
    let (e, answer) = exercise(
        "/v1/entities.create",
        json!({"customer_id": "user_1", "entity_id": "seat_1", "feature_id": "seats",
               "name": "Seat one", "customer_data": {"email": "ada@example.com"}}),
        |a| a["env"] = json!("staging_eu"),
        |client| async move { client.entities().create(&params).await },
    )
    .await;
    assert_eq!(e.env, "staging_eu");
    check_entity(&e, &answer);
}

#[tokio::test]
async fn entities_get() {
    let params = GetEntityParams::new("seat_1").customer_id("user_1");
    let (e, answer) = exercise(
        "/v1/entities.get",
        json!({"customer_id": "user_1", "entity_id": "seat_1"}),
        |a| a["purchases"][0]["scope"] = json!("team"),
        |client| async move { client.entities().get(&params).await },
    )
    .await;
    assert_eq!(e.purchases[0].scope.as_deref(), Some("team"));
    check_entity(&e, &answer);
}

#[tokio::test]
async fn entities_list() {
    let params = ListEntitiesParams::new()
        .customer_id("user_1")
        .search("seat")
        .subscription_status("active");
    let (page, answer) = exercise(
        "/v1/entities.list",
        json!({"customer_id": "user_1", "search": "seat", "subscription_status": "active"}),
        |a| a["list"][0]["env"] = json!("preview"),
        |client| async move { client.entities().list(&params).await },
    )
    .await;
    only_unknown(&page.extra);
    assert_eq!(page.list[0].env, "preview");
    assert_eq!(page.list[0].id.as_deref(), answer["list"][0]["id"].as_str());
    assert_eq!(keys(&page.list[0].balances), MAP_KEYS);
}

#[tokio::test]
async fn entities_update() {
    let params = UpdateEntityParams::new("seat_1")
        .customer_id("user_1")
        .billing_controls(
            BillingControls::new()
                .overage_allowed(vec![OverageAllowed::new("messages").enabled(true)]),
        );
    let (e, answer) = exercise(
        "/v1/entities.update",
        json!({"customer_id": "user_1", "entity_id": "seat_1",
               "billing_controls": {"overage_allowed": [{"feature_id": "messages", "enabled": true}]}}),
        |a| a["subscriptions"][0]["status"] = json!("frozen"),
        |client| async move { client.entities().update(&params).await },
    )
    .await;
    assert_eq!(e.subscriptions[0].status, "frozen");
    check_entity(&e, &answer);
}

#[tokio::test]
async fn entities_delete() {
    let params = DeleteEntityParams::new("seat_1").customer_id("user_1");
    let (r, _) = exercise(
        "/v1/entities.delete",
        json!({"customer_id": "user_1", "entity_id": "seat_1"}),
        |_| {},
        |client| async move { client.entities().delete(&params).await },
    )
    .await;
    assert!(r.success);
    only_unknown(&r.extra);
}

// ---------------------------------------------------------------------------------------------
// plans and features

fn check_plan(p: &Plan, answer: &Value) {
    assert_eq!(p.id, answer["id"]);
    assert_eq!(p.metadata.keys().collect::<Vec<_>>(), MAP_KEYS);
    let item = &p.items[0];
    assert_eq!(item.feature_id, answer["items"][0]["feature_id"]);
    let price = item.price.as_ref().unwrap();
    assert_eq!(
        price.tiers.as_ref().unwrap()[0].to,
        TierLimit::Units(
            answer["items"][0]["price"]["tiers"][0]["to"]
                .as_f64()
                .unwrap()
        )
    );
    assert_eq!(
        p.free_trial.as_ref().unwrap().duration_type.as_deref(),
        answer["free_trial"]["duration_type"].as_str()
    );
    assert!(p.customer_eligibility.is_some());
}

#[tokio::test]
async fn plans_list() {
    let params = ListPlansParams::new()
        .customer_id("user_1")
        .include_archived(true);
    let (page, answer) = exercise(
        "/v1/plans.list",
        json!({"customer_id": "user_1", "include_archived": true}),
        |a| a["list"][0]["price"]["interval"] = json!("fortnight"),
        |client| async move { client.plans().list(&params).await },
    )
    .await;
    only_unknown(&page.extra);
    let plan = &page.list[0];
    assert_eq!(plan.price.as_ref().unwrap().interval, "fortnight");
    assert!(plan.extra.is_empty(), "{:?}", plan.extra);
    check_plan(plan, &answer["list"][0]);
}

#[tokio::test]
async fn plans_get() {
    let params = GetPlanParams::new("pro").version(2.0);
    let (plan, answer) = exercise(
        "/v1/plans.get",
        json!({"plan_id": "pro", "version": 2.0}),
        |a| a["items"][0]["reset"]["interval"] = json!("decade"),
        |client| async move { client.plans().get(&params).await },
    )
    .await;
    only_unknown(&plan.extra);
    assert_eq!(plan.items[0].reset.as_ref().unwrap().interval, "decade");
    check_plan(&plan, &answer);
}

#[tokio::test]
async fn features_list() {
    let (page, answer) = exercise(
        "/v1/features.list",
        Value::Null,
        |a| a["list"][0]["type"] = json!("quantum"),
        |client| async move { client.features().list(&ListFeaturesParams::new()).await },
    )
    .await;
    only_unknown(&page.extra);
    assert_eq!(page.list[0].r#type, "quantum");
    assert_eq!(page.list[0].id, answer["list"][0]["id"]);
    assert_eq!(keys(page.list[0].model_markups.as_ref().unwrap()), MAP_KEYS);
}

#[tokio::test]
async fn features_get() {
    let (f, answer) = exercise(
        "/v1/features.get",
        json!({"feature_id": "messages"}),
        |a| a["type"] = json!("quantum"),
        |client| async move {
            client
                .features()
                .get(&GetFeatureParams::new("messages"))
                .await
        },
    )
    .await;
    only_unknown(&f.extra);
    assert_eq!(f.r#type, "quantum");
    assert_eq!(
        f.credit_schema.as_ref().unwrap()[0].metered_feature_id,
        answer["credit_schema"][0]["metered_feature_id"]
    );
    assert_eq!(keys(f.provider_markups.as_ref().unwrap()), MAP_KEYS);
}

// ---------------------------------------------------------------------------------------------
// billing

fn full_attach() -> (AttachParams, Value) {
    let params = AttachParams::new("user_1", "pro")
        .entity_id("seat_1")
        .feature_quantities(vec![FeatureQuantity::new("seats").quantity(5.0)])
        .customize(
            PlanCustomization::new()
                .price(PlanPrice::new(20.0, "month"))
                .add_items(vec![ItemConfig::new("messages").included(100.0).price(
                    ItemPrice::new("month", "usage_based").tiers(vec![
                        PriceTier::new(1000.0).amount(0.5),
                        PriceTier::new(TierLimit::inf()).amount(0.25),
                    ]),
                )]),
        )
        .redirect_mode("always")
        .success_url("https://example.com/done")
        .metadata(BTreeMapExt::from([("fooBar", "1")]))
        .checkout_session_params(obj(
            json!({"allow_promotion_codes": true, "fooBar": {"x": 1}}),
        ));
    let body = json!({
        "customer_id": "user_1", "plan_id": "pro", "entity_id": "seat_1",
        "feature_quantities": [{"feature_id": "seats", "quantity": 5.0}],
        "customize": {
            "price": {"amount": 20.0, "interval": "month"},
            "add_items": [{"feature_id": "messages", "included": 100.0, "price": {
                "interval": "month", "billing_method": "usage_based",
                "tiers": [{"to": 1000.0, "amount": 0.5}, {"to": "inf", "amount": 0.25}]}}]
        },
        "redirect_mode": "always", "success_url": "https://example.com/done",
        "metadata": {"fooBar": "1"},
        "checkout_session_params": {"allow_promotion_codes": true, "fooBar": {"x": 1}}
    });
    (params, body)
}

/// `BTreeMap<String, String>` from pairs of `&str`.
struct BTreeMapExt;

impl BTreeMapExt {
    fn from<const N: usize>(
        pairs: [(&str, &str); N],
    ) -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }
}

fn check_billing_response(r: &BillingResponse, answer: &Value) {
    only_unknown(&r.extra);
    assert_eq!(r.customer_id, answer["customer_id"]);
    assert_eq!(r.payment_url.as_deref(), answer["payment_url"].as_str());
    assert_eq!(
        r.invoice.as_ref().unwrap().stripe_id,
        answer["invoice"]["stripe_id"]
    );
}

fn check_preview(p: &BillingPreview, answer: &Value) {
    only_unknown(&p.extra);
    assert_eq!(p.total, answer["total"].as_f64().unwrap());
    assert_eq!(p.line_items[0].plan_id, answer["line_items"][0]["plan_id"]);
    assert_eq!(
        p.incoming[0].plan.as_ref().unwrap().id,
        answer["incoming"][0]["plan"]["id"]
    );
    assert_eq!(
        p.next_cycle.as_ref().unwrap().usage_line_items[0].display_name,
        answer["next_cycle"]["usage_line_items"][0]["display_name"]
    );
}

#[tokio::test]
async fn billing_attach() {
    let (params, body) = full_attach();
    let (r, answer) = exercise(
        "/v1/billing.attach",
        body,
        |a| a["required_action"]["code"] = json!("biometric_required"),
        |client| async move { client.billing().attach(&params).await },
    )
    .await;
    assert_eq!(
        r.required_action.as_ref().unwrap().code,
        "biometric_required"
    );
    check_billing_response(&r, &answer);
}

#[tokio::test]
async fn billing_preview_attach() {
    let (params, body) = full_attach();
    let (p, answer) = exercise(
        "/v1/billing.preview_attach",
        body,
        |a| a["checkout_type"] = json!("embedded_checkout"),
        |client| async move { client.billing().preview_attach(&params).await },
    )
    .await;
    assert_eq!(p.checkout_type.as_deref(), Some("embedded_checkout"));
    assert_eq!(p.redirect_to_checkout, Some(true));
    check_preview(&p, &answer);
}

fn full_update() -> (UpdateSubscriptionParams, Value) {
    let params = UpdateSubscriptionParams::new("user_1")
        .plan_id("pro")
        .feature_quantities(vec![FeatureQuantity::new("seats").quantity(8.0)])
        .cancel_action("cancel_end_of_cycle")
        .recalculate_balances(RecalculateBalances::new(true))
        .invoice_mode(InvoiceMode::new(true).net_terms_days(30));
    let body = json!({
        "customer_id": "user_1", "plan_id": "pro",
        "feature_quantities": [{"feature_id": "seats", "quantity": 8.0}],
        "cancel_action": "cancel_end_of_cycle", "recalculate_balances": {"enabled": true},
        "invoice_mode": {"enabled": true, "net_terms_days": 30}
    });
    (params, body)
}

#[tokio::test]
async fn billing_update() {
    let (params, body) = full_update();
    let (r, answer) = exercise(
        "/v1/billing.update",
        body,
        |a| a["required_action"]["code"] = json!("sms_required"),
        |client| async move { client.billing().update(&params).await },
    )
    .await;
    assert_eq!(r.required_action.as_ref().unwrap().code, "sms_required");
    check_billing_response(&r, &answer);
}

#[tokio::test]
async fn billing_preview_update() {
    let (params, body) = full_update();
    let (p, answer) = exercise(
        "/v1/billing.preview_update",
        body,
        |a| a["intent"] = json!("pause"),
        |client| async move { client.billing().preview_update(&params).await },
    )
    .await;
    assert_eq!(p.intent.as_deref(), Some("pause"));
    check_preview(&p, &answer);
}

fn full_multi_attach() -> (MultiAttachParams, Value) {
    let params = MultiAttachParams::new(
        "user_1",
        vec![
            PlanToAttach::new("pro"),
            PlanToAttach::new("addon")
                .feature_quantities(vec![FeatureQuantity::new("seats").quantity(2.0)]),
        ],
    )
    .free_trial(FreeTrial::new(14.0).duration_type("day"))
    .discounts(vec![DiscountRef::new().promotion_code("WELCOME")])
    .entity_data(EntityData::new("seats").name("Seat"));
    let body = json!({
        "customer_id": "user_1",
        "plans": [{"plan_id": "pro"},
                  {"plan_id": "addon", "feature_quantities": [{"feature_id": "seats", "quantity": 2.0}]}],
        "free_trial": {"duration_length": 14.0, "duration_type": "day"},
        "discounts": [{"promotion_code": "WELCOME"}],
        "entity_data": {"feature_id": "seats", "name": "Seat"}
    });
    (params, body)
}

#[tokio::test]
async fn billing_multi_attach() {
    let (params, body) = full_multi_attach();
    let (r, answer) = exercise(
        "/v1/billing.multi_attach",
        body,
        |a| a["required_action"]["code"] = json!("wire_transfer"),
        |client| async move { client.billing().multi_attach(&params).await },
    )
    .await;
    assert_eq!(r.required_action.as_ref().unwrap().code, "wire_transfer");
    check_billing_response(&r, &answer);
}

#[tokio::test]
async fn billing_preview_multi_attach() {
    let (params, body) = full_multi_attach();
    let (p, answer) = exercise(
        "/v1/billing.preview_multi_attach",
        body,
        |a| a["tax"]["status"] = json!("estimated"),
        |client| async move { client.billing().preview_multi_attach(&params).await },
    )
    .await;
    assert_eq!(p.tax.as_ref().unwrap().status, "estimated");
    check_preview(&p, &answer);
}

#[tokio::test]
async fn billing_setup_payment() {
    let params = SetupPaymentParams::new("user_1")
        .plan_id("pro")
        .success_url("https://example.com/ok")
        .checkout_session_params(obj(json!({"fooBar": 1})));
    let (r, answer) = exercise(
        "/v1/billing.setup_payment",
        json!({"customer_id": "user_1", "plan_id": "pro", "success_url": "https://example.com/ok",
               "checkout_session_params": {"fooBar": 1}}),
        |_| {},
        |client| async move { client.billing().setup_payment(&params).await },
    )
    .await;
    only_unknown(&r.extra);
    assert_eq!(r.url, answer["url"]);
    assert_eq!(r.entity_id.as_deref(), answer["entity_id"].as_str());
}

#[tokio::test]
async fn billing_open_customer_portal() {
    let params = OpenCustomerPortalParams::new("user_1").return_url("https://example.com/app");
    let (r, answer) = exercise(
        "/v1/billing.open_customer_portal",
        json!({"customer_id": "user_1", "return_url": "https://example.com/app"}),
        |_| {},
        |client| async move { client.billing().open_customer_portal(&params).await },
    )
    .await;
    only_unknown(&r.extra);
    assert_eq!(r.url, answer["url"]);
}

// ---------------------------------------------------------------------------------------------
// balances

#[tokio::test]
async fn balances_check() {
    let mut params = CheckParams::new("user_1", "messages")
        .entity_id("seat_1")
        .required_balance(3.0)
        .send_event(true)
        .with_preview(true)
        .properties(obj(json!({"fooBar": "x", "snake_key": 2})));
    params.extra.insert("brand_new_param".into(), json!(1));
    let (r, answer) = exercise(
        "/v1/balances.check",
        json!({"customer_id": "user_1", "feature_id": "messages", "entity_id": "seat_1",
               "required_balance": 3.0, "properties": {"fooBar": "x", "snake_key": 2},
               "send_event": true, "with_preview": true, "brand_new_param": 1}),
        |a| a["preview"]["scenario"] = json!("seat_limit"),
        |client| async move { client.balances().check(&params).await },
    )
    .await;
    only_unknown(&r.extra);
    let preview = r.preview.as_ref().unwrap();
    assert_eq!(preview.scenario, "seat_limit");
    assert_eq!(
        preview.products[0].id,
        answer["preview"]["products"][0]["id"]
    );
    let balance = r.balance.as_ref().unwrap();
    assert_eq!(
        balance.granted,
        answer["balance"]["granted"].as_f64().unwrap()
    );
    assert_eq!(keys(r.balances.as_ref().unwrap()), MAP_KEYS);
    assert_eq!(
        r.flag.as_ref().unwrap().feature_id,
        answer["flag"]["feature_id"]
    );
}

#[tokio::test]
async fn balances_track() {
    let params = TrackParams::new("user_1", "messages", 2.0)
        .entity_id("seat_1")
        .properties(obj(json!({"fooBar": {"nestedKey": 1}})))
        .timestamp(1_767_225_600_000)
        .idempotency_key("msg_7");
    let (r, answer) = exercise(
        "/v1/balances.track",
        json!({"customer_id": "user_1", "feature_id": "messages", "value": 2.0, "entity_id": "seat_1",
               "properties": {"fooBar": {"nestedKey": 1}}, "timestamp": 1_767_225_600_000_i64}),
        |a| a["balance"]["breakdown"][0]["reset"]["interval"] = json!("multiple"),
        |client| async move { client.balances().track(&params).await },
    )
    .await;
    only_unknown(&r.extra);
    assert_eq!(r.value, answer["value"].as_f64().unwrap());
    let breakdown = &r.balance.as_ref().unwrap().breakdown.as_ref().unwrap()[0];
    assert_eq!(breakdown.reset.as_ref().unwrap().interval, "multiple");
    assert_eq!(
        r.deductions.as_ref().unwrap()[0].balance_id,
        answer["deductions"][0]["balance_id"]
    );
}

#[tokio::test]
async fn balances_track_sends_the_idempotency_key_header() {
    let fake = FakeAutumn::start().await;
    let params = TrackParams::event("user_1", "message_sent", 1.0).idempotency_key("msg_7");
    client(&fake.url()).balances().track(&params).await.unwrap();
    let seen = fake.requests();
    assert_eq!(seen[0].header("idempotency-key"), Some("msg_7"));
    assert_eq!(
        seen[0].body,
        Some(json!({"customer_id": "user_1", "event_name": "message_sent", "value": 1.0}))
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn balances_batch_track() {
    let events = [
        TrackParams::new("user_1", "messages", 1.0),
        TrackParams::event("user_2", "message_sent", 3.0).properties(obj(json!({"fooBar": 1}))),
    ];
    let (r, _) = exercise(
        "/v1/balances.batch_track",
        json!([{"customer_id": "user_1", "feature_id": "messages", "value": 1.0},
               {"customer_id": "user_2", "event_name": "message_sent", "value": 3.0,
                "properties": {"fooBar": 1}}]),
        |_| {},
        |client| async move {
            client
                .balances()
                .batch_track(&events, Some("batch_1"))
                .await
        },
    )
    .await;
    assert!(r.success);
    only_unknown(&r.extra);
}

// ---------------------------------------------------------------------------------------------
// events and referrals

#[tokio::test]
async fn events_list() {
    let params = ListEventsParams::new()
        .customer_id("user_1")
        .feature_id(["messages", "tokens"])
        .limit(5)
        .custom_range(TimeRange::new().start(10.0));
    let (page, answer) = exercise(
        "/v1/events.list",
        json!({"customer_id": "user_1", "feature_id": ["messages", "tokens"], "limit": 5,
               "custom_range": {"start": 10.0}}),
        |a| a["list"][0]["deductions"][0]["reset"]["interval"] = json!("multiple"),
        |client| async move { client.events().list(&params).await },
    )
    .await;
    only_unknown(&page.extra);
    let event = &page.list[0];
    assert_eq!(event.id, answer["list"][0]["id"]);
    assert_eq!(event.properties.keys().collect::<Vec<_>>(), MAP_KEYS);
    let deduction = &event.deductions.as_ref().unwrap()[0];
    assert_eq!(deduction.reset.as_ref().unwrap().interval, "multiple");
}

#[tokio::test]
async fn events_aggregate() {
    let params = AggregateEventsParams::new("messages")
        .customer_id("user_1")
        .range("30d")
        .group_by("properties.modelName")
        .filter_by(BTreeMapExt::from([
            ("modelName", "gpt"),
            ("snake_key", "y"),
        ]))
        .aggregate_on("deducted");
    let (agg, answer) = exercise(
        "/v1/events.aggregate",
        json!({"customer_id": "user_1", "feature_id": "messages", "range": "30d",
               "group_by": "properties.modelName", "filter_by": {"modelName": "gpt", "snake_key": "y"},
               "aggregate_on": "deducted"}),
        |a| a["deductions"][0]["values"]["camelCaseKey"]["feature_type"] = json!("tokens"),
        |client| async move { client.events().aggregate(&params).await },
    )
    .await;
    only_unknown(&agg.extra);
    assert_eq!(keys(&agg.total), MAP_KEYS);
    assert_eq!(keys(&agg.list[0].values), MAP_KEYS);
    let grouped = agg.list[0].grouped_values.as_ref().unwrap();
    assert_eq!(keys(&grouped["camelCaseKey"]), MAP_KEYS);
    assert_eq!(
        agg.total["snake_key"].sum,
        answer["total"]["snake_key"]["sum"].as_f64().unwrap()
    );
    let bin = &agg.deductions.as_ref().unwrap()[0];
    assert_eq!(bin.values["camelCaseKey"].feature_type, "tokens");
}

#[tokio::test]
async fn referrals_create_code() {
    let params = CreateReferralCodeParams::new("user_1", "prog_1");
    let (r, answer) = exercise(
        "/v1/referrals.create_code",
        json!({"customer_id": "user_1", "program_id": "prog_1"}),
        |_| {},
        |client| async move { client.referrals().create_code(&params).await },
    )
    .await;
    only_unknown(&r.extra);
    assert_eq!(r.code, answer["code"]);
}

#[tokio::test]
async fn referrals_redeem_code() {
    let params = RedeemReferralCodeParams::new("user_2", "CODE42");
    let (r, answer) = exercise(
        "/v1/referrals.redeem_code",
        json!({"customer_id": "user_2", "code": "CODE42"}),
        |_| {},
        |client| async move { client.referrals().redeem_code(&params).await },
    )
    .await;
    only_unknown(&r.extra);
    assert_eq!(r.reward_id, answer["reward_id"]);
}

// ---------------------------------------------------------------------------------------------
// blocking

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_sends_the_same_requests() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt.block_on(FakeAutumn::start());
    let c = autumn_tower::blocking::Client::from_builder(client_builder(fake.url(), KEY)).unwrap();

    let customer = c
        .customers()
        .get(&GetCustomerParams::new("user_1"))
        .unwrap();
    let answer = fake.response_for("/v1/customers.get").unwrap();
    check_customer_no_unknown(&customer, &answer);

    let events = [TrackParams::new("user_1", "messages", 1.0)];
    assert!(
        c.balances()
            .batch_track(&events, Some("batch_9"))
            .unwrap()
            .success
    );
    let preview = c
        .billing()
        .preview_attach(&AttachParams::new("user_1", "pro"))
        .unwrap();
    assert_eq!(
        preview.customer_id,
        fake.response_for("/v1/billing.preview_attach").unwrap()["customer_id"]
    );

    let seen = fake.requests();
    let sent: Vec<(&str, &str, Option<&Value>)> = seen
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.body.as_ref()))
        .collect();
    assert_eq!(
        sent,
        [
            (
                "POST",
                "/v1/customers.get",
                Some(&json!({"customer_id": "user_1"}))
            ),
            (
                "POST",
                "/v1/balances.batch_track",
                Some(&json!([{"customer_id": "user_1", "feature_id": "messages", "value": 1.0}]))
            ),
            (
                "POST",
                "/v1/billing.preview_attach",
                Some(&json!({"customer_id": "user_1", "plan_id": "pro"}))
            ),
        ]
    );
    assert_eq!(seen[1].header("idempotency-key"), Some("batch_9"));
    for r in &seen {
        assert_eq!(r.header("x-api-version"), Some("2.4.0"));
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
    }
    fake.assert_no_violations();
}

#[cfg(feature = "blocking")]
fn check_customer_no_unknown(c: &Customer, answer: &Value) {
    assert_eq!(c.unknown_fields(), Vec::<String>::new());
    assert_eq!(
        numbers_as_f64(serde_json::to_value(c).unwrap()),
        numbers_as_f64(answer.clone())
    );
    assert_eq!(keys(&c.balances), MAP_KEYS);
}

// ---------------------------------------------------------------------------------------------
// the raw escape hatch

fn retrying_client(url: &str) -> Client {
    Client::builder()
        .secret_key(KEY)
        .base_url(url)
        .retry(RetryPolicy::default().with_initial_backoff(std::time::Duration::from_millis(1)))
        .build()
        .unwrap()
}

/// A raw call sends exactly the path and JSON body given, with the typed calls' headers, and answers
/// the JSON Autumn sent.
#[tokio::test]
async fn raw_call_sends_the_body_and_answers_json() {
    use autumn_tower::client::{RawRequest, RetryClass};
    let fake = FakeAutumn::start().await;
    let body = json!({"customer_id": "user_1", "expand": ["invoices"]});
    let answer = client(&fake.url())
        .raw(RawRequest::new("/v1/customers.get", RetryClass::Read).body(body.clone()))
        .await
        .unwrap();
    assert_eq!(answer, fake.response_for("/v1/customers.get").unwrap());
    let seen = fake.requests();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v1/customers.get")
    );
    assert_eq!(req.body.as_ref(), Some(&body));
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(req.header("x-api-version"), Some("2.4.0"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("idempotency-key"), None, "a read carries no key");
    fake.assert_no_violations();

    // Without a body, nothing is sent (features.list takes none).
    fake.reset();
    let list = client(&fake.url())
        .raw(RawRequest::new("/v1/features.list", RetryClass::Read))
        .await
        .unwrap();
    assert!(list["list"].is_array());
    assert_eq!(fake.requests()[0].raw_body, "");
}

/// Autumn's error answers become the same `Error`s as for typed calls; a bad path is a config error.
#[tokio::test]
async fn raw_call_errors_are_the_typed_calls_errors() {
    use autumn_tower::client::{RawRequest, RetryClass};
    use autumn_tower::ErrorKind;
    let fake = FakeAutumn::start().await;
    fake.script(
        "/v1/widgets.get",
        Fault::Status {
            status: 404,
            body: json!({"code": "widget_not_found", "message": "No widget w_1"}),
        },
    );
    let err = client(&fake.url())
        .raw(RawRequest::new("/v1/widgets.get", RetryClass::Read).body(json!({"widget_id": "w_1"})))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    let api = err.api().unwrap();
    assert_eq!(
        (api.status().as_u16(), api.code(), api.message()),
        (404, "widget_not_found", "No widget w_1")
    );

    let err = client(&fake.url())
        .raw(RawRequest::new("v1/widgets.get", RetryClass::Read))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

/// The caller's retry class decides: a read is repeated after a 503, a write is not, a keyed write is
/// repeated with the same generated `Idempotency-Key`.
#[tokio::test]
async fn raw_call_retries_by_the_given_class() {
    use autumn_tower::client::{RawRequest, RetryClass};
    let fake = FakeAutumn::start().await;
    let unavailable = Fault::Status {
        status: 503,
        body: json!({"code": "unavailable", "message": "try again"}),
    };
    let path = "/v1/customers.get";
    let body = json!({"customer_id": "user_1"});

    fake.script_times(path, unavailable.clone(), 1);
    let c = retrying_client(&fake.url());
    c.raw(RawRequest::new(path, RetryClass::Read).body(body.clone()))
        .await
        .unwrap();
    assert_eq!(fake.requests().len(), 2, "a read is retried after a 503");

    fake.reset();
    fake.script_times(path, unavailable.clone(), 1);
    c.raw(RawRequest::new(path, RetryClass::Preview).body(body.clone()))
        .await
        .unwrap();
    assert_eq!(fake.requests().len(), 2, "a preview is retried after a 503");

    fake.reset();
    fake.script_times(path, unavailable.clone(), 1);
    let err = c
        .raw(RawRequest::new(path, RetryClass::Write).body(body.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(fake.requests().len(), 1, "a write is not retried once sent");

    fake.reset();
    fake.script_times(path, unavailable, 1);
    c.raw(RawRequest::new(path, RetryClass::KeyedWrite).body(body))
        .await
        .unwrap();
    let seen = fake.requests();
    assert_eq!(seen.len(), 2, "a keyed write is retried");
    let key = seen[0].header("idempotency-key").expect("a generated key");
    assert!(!key.is_empty());
    assert_eq!(
        seen[1].header("idempotency-key"),
        Some(key),
        "the same key on the retry"
    );

    fake.reset();
    c.raw(RawRequest::new(path, RetryClass::Write).idempotency_key("mine_1"))
        .await
        .unwrap();
    assert_eq!(fake.requests()[0].header("idempotency-key"), Some("mine_1"));
}

// ---------------------------------------------------------------------------------------------
// the blocking client's lifecycle

#[cfg(feature = "blocking")]
fn blocking_client(url: String) -> autumn_tower::blocking::Client {
    autumn_tower::blocking::Client::from_builder(client_builder(url, KEY)).unwrap()
}

/// Outside any runtime: created, used (typed and raw) and dropped.
#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_lives_outside_a_runtime() {
    use autumn_tower::client::{RawRequest, RetryClass};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt.block_on(FakeAutumn::start());
    let c = blocking_client(fake.url());
    let other = c.clone();
    let answer = c.check(&CheckParams::new("user_1", "messages")).unwrap();
    assert_eq!(
        answer.customer_id,
        fake.response_for("/v1/balances.check").unwrap()["customer_id"]
    );
    drop(c);
    // The clone still works after the first one is gone; several threads share it.
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let c = other.clone();
            std::thread::spawn(move || {
                c.raw(RawRequest::new("/v1/plans.list", RetryClass::Read).body(json!({})))
                    .unwrap()
            })
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap()["list"].is_array());
    }
    drop(other);
    assert_eq!(fake.requests().len(), 4);
    fake.assert_no_violations();
}

/// Inside a runtime: created and dropped without a panic (the old client panicked when its
/// runtime was dropped there); a call returns `BlockingInAsyncContext` (on a `spawn_blocking` thread
/// too); the same client works from a thread of its own.
#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_lives_inside_a_runtime() {
    use autumn_tower::ErrorKind;
    for multi_thread in [false, true] {
        let rt = if multi_thread {
            tokio::runtime::Runtime::new().unwrap()
        } else {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        };
        rt.block_on(async {
            let fake = FakeAutumn::start().await;
            let c = blocking_client(fake.url());
            let err = c
                .check(&CheckParams::new("user_1", "messages"))
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BlockingInAsyncContext);
            let c2 = c.clone();
            let err = tokio::task::spawn_blocking(move || c2.check(&CheckParams::new("u", "m")))
                .await
                .unwrap()
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BlockingInAsyncContext);
            let c2 = c.clone();
            let (tx, rx) = tokio::sync::oneshot::channel();
            std::thread::spawn(move || {
                let _ = tx.send(c2.customers().get(&GetCustomerParams::new("user_1")));
            });
            let answer = rx.await.unwrap().unwrap();
            assert_eq!(
                answer.id.as_deref(),
                fake.response_for("/v1/customers.get").unwrap()["id"].as_str()
            );
            // The last clone dropped here, in the async context.
            drop(c);
            assert_eq!(fake.requests().len(), 1);
        });
    }
    // Created outside, last clone dropped inside.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt.block_on(FakeAutumn::start());
    let c = blocking_client(fake.url());
    c.check(&CheckParams::new("user_1", "messages")).unwrap();
    rt.block_on(async move { drop(c) });
}

/// A client that cannot be built reports why, from whatever thread it is built on.
#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_reports_build_errors() {
    let err = autumn_tower::blocking::Client::from_builder(
        Client::builder().secret_key(KEY).base_url("ftp://nope"),
    )
    .unwrap_err();
    assert_eq!(err.kind(), autumn_tower::ErrorKind::Config);
}
