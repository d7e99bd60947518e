//! The browser-settable body fields: one allow-list per route, for both protocols.
//!
//! autumn-js's backend forwards whatever the browser sends under the app's secret key, so a logged-in
//! visitor could choose their own price, trial, discounts or billing dates. This crate forwards only the
//! fields a customer choosing for themselves inside the app's catalogue may set: which plan, how many
//! units, which of their own entities, where to come back to after checkout. Everything else is dropped
//! before the upstream call (prices, trials, discounts, invoicing, billing dates and cycles, plan
//! versions, line items, carry-overs, links to outside subscriptions, metadata, spend limits, billing
//! controls): the app sets those server-side with the typed [`Client`](crate::Client).
//!
//! The lists are written in Autumn's spelling (snake_case) and applied to the body *after* it is
//! converted, so every spelling the browser may use is covered. A path names an object field
//! (`success_url`), a field under another (`custom_range.start`), or a field of each element of an
//! array (`feature_quantities[].quantity`); a top-level array body is `[]`. A listed path keeps its whole
//! value; an object or array on the way to a listed path keeps only what lies on listed paths.
//!
//! An app widens or narrows a route's list with
//! [`AutumnServiceBuilder::allow_fields`](crate::AutumnServiceBuilder::allow_fields) and
//! [`AutumnServiceBuilder::deny_fields`](crate::AutumnServiceBuilder::deny_fields). The README's
//! "What the browser may set" section gives each default field with its reason.

use serde_json::{Map, Value};

/// A route's default list: (protocol route name, allowed paths).
type Defaults = &'static [(&'static str, &'static [&'static str])];

const ATTACH: &[&str] = &[
    "plan_id",
    "entity_id",
    "success_url",
    "redirect_mode",
    "feature_quantities[].feature_id",
    "feature_quantities[].quantity",
    "license_quantities[].license_plan_id",
    "license_quantities[].quantity",
];
const UPDATE: &[&str] = &[
    "plan_id",
    "entity_id",
    "cancel_action",
    "redirect_mode",
    "feature_quantities[].feature_id",
    "feature_quantities[].quantity",
    "license_quantities[].license_plan_id",
    "license_quantities[].quantity",
];
const MULTI_ATTACH: &[&str] = &[
    "entity_id",
    "success_url",
    "redirect_mode",
    "plans[].plan_id",
    "plans[].entity_id",
    "plans[].feature_quantities[].feature_id",
    "plans[].feature_quantities[].quantity",
];

/// The current protocol's defaults, by rpc name.
pub(crate) const CURRENT: Defaults = &[
    ("getOrCreateCustomer", &["expand"]),
    ("getEntity", &["entity_id", "expand"]),
    ("attach", ATTACH),
    ("previewAttach", ATTACH),
    ("updateSubscription", UPDATE),
    ("previewUpdateSubscription", UPDATE),
    ("multiAttach", MULTI_ATTACH),
    ("previewMultiAttach", MULTI_ATTACH),
    (
        "setupPayment",
        &[
            "plan_id",
            "entity_id",
            "success_url",
            "feature_quantities[].feature_id",
            "feature_quantities[].quantity",
        ],
    ),
    ("openCustomerPortal", &["return_url"]),
    ("createReferralCode", &["program_id"]),
    ("redeemReferralCode", &["code"]),
    ("listPlans", &["entity_id"]),
    (
        "listEvents",
        &[
            "entity_id",
            "feature_id",
            "custom_range.start",
            "custom_range.end",
            "start_cursor",
            "limit",
        ],
    ),
    (
        "aggregateEvents",
        &[
            "entity_id",
            "feature_id",
            "custom_range.start",
            "custom_range.end",
            "range",
            "bin_size",
            "group_by",
            "max_groups",
        ],
    ),
];

const LEGACY_ATTACH: &[&str] = &[
    "product_id",
    "product_ids",
    "entity_id",
    "options[].feature_id",
    "options[].quantity",
    "success_url",
    "force_checkout",
];

/// The legacy protocol's defaults, by route name (as in `routes::legacy`'s table).
pub(crate) const LEGACY: Defaults = &[
    ("customers", &["expand", "error_on_not_found"]),
    ("attach", LEGACY_ATTACH),
    ("checkout", LEGACY_ATTACH),
    ("setup_payment", &["success_url"]),
    ("cancel", &["product_id", "entity_id", "cancel_immediately"]),
    (
        "check",
        &[
            "feature_id",
            "product_id",
            "entity_id",
            "required_balance",
            "send_event",
            "with_preview",
        ],
    ),
    (
        "track",
        &[
            "feature_id",
            "event_name",
            "value",
            "entity_id",
            "idempotency_key",
        ],
    ),
    ("query", &["feature_id", "range"]),
    ("billing_portal", &["return_url"]),
    (
        "entities",
        &[
            "id",
            "name",
            "feature_id",
            "[].id",
            "[].name",
            "[].feature_id",
        ],
    ),
    ("referrals/code", &["program_id"]),
    ("referrals/redeem", &["code"]),
    (
        "events/list",
        &[
            "entity_id",
            "feature_id",
            "custom_range.start",
            "custom_range.end",
            "limit",
            "offset",
        ],
    ),
    (
        "events/aggregate",
        &[
            "entity_id",
            "feature_id",
            "custom_range.start",
            "custom_range.end",
            "range",
            "bin_size",
            "group_by",
        ],
    ),
];

/// The default list of every route of `protocol` that takes a body: (route name, allowed paths).
///
/// ```
/// use autumn_tower::{fields, Protocol};
///
/// let attach = fields::defaults(Protocol::Current)
///     .iter()
///     .find(|(route, _)| *route == "attach")
///     .map(|(_, paths)| *paths)
///     .unwrap();
/// assert!(attach.contains(&"plan_id"));
/// assert!(!attach.contains(&"customize"));
/// ```
pub fn defaults(protocol: crate::Protocol) -> &'static [(&'static str, &'static [&'static str])] {
    match protocol {
        crate::Protocol::Current => CURRENT,
        crate::Protocol::Legacy => LEGACY,
    }
}

/// An app's change to one route's list.
#[derive(Clone, Debug)]
pub(crate) enum Edit {
    Allow(String, Vec<String>),
    Deny(String, Vec<String>),
}

/// One route's allow-list, as a tree of field names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Allowed {
    /// Keep this value whole.
    whole: bool,
    /// Allowed children by name; `[]` stands for every element of an array.
    children: Vec<(String, Allowed)>,
}

impl Allowed {
    /// The tree of a list of paths.
    pub(crate) fn of<S: AsRef<str>>(paths: impl IntoIterator<Item = S>) -> Self {
        let mut root = Allowed::default();
        for p in paths {
            root.allow(p.as_ref());
        }
        root
    }

    fn child_mut(&mut self, name: &str) -> &mut Allowed {
        let i = match self.children.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.children.push((name.to_owned(), Allowed::default()));
                self.children.len() - 1
            }
        };
        &mut self.children[i].1
    }

    fn child(&self, name: &str) -> Option<&Allowed> {
        self.children
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a)
    }

    /// Adds a path (and so everything under it).
    pub(crate) fn allow(&mut self, path: &str) {
        let mut node = self;
        for step in steps(path) {
            node = node.child_mut(step);
        }
        node.whole = true;
    }

    /// Removes a path and everything under it.
    pub(crate) fn deny(&mut self, path: &str) {
        let steps: Vec<&str> = steps(path).collect();
        let Some((last, parents)) = steps.split_last() else {
            *self = Allowed::default();
            return;
        };
        let mut node = self;
        for step in parents {
            match node.children.iter().position(|(n, _)| n == step) {
                Some(i) => node = &mut node.children[i].1,
                None => {
                    // Below a whole value nothing is listed: keep none of it (the safe reading).
                    node.whole = false;
                    return;
                }
            }
        }
        // Denying below a whole value: its other parts stay only where they are listed.
        node.whole = false;
        node.children.retain(|(n, _)| n != last);
    }

    /// Keeps only the allowed parts of `value`; notes the dotted path of each dropped field in
    /// `dropped`. Runs in time linear in the size of `value` times the (small, fixed) width of the list.
    pub(crate) fn filter(&self, value: &mut Value, path: &mut String, dropped: &mut Dropped) {
        if self.whole {
            return;
        }
        match value {
            Value::Object(map) => self.filter_object(map, path, dropped),
            Value::Array(items) => match self.child("[]") {
                Some(each) => {
                    let len = path.len();
                    path.push_str("[]");
                    for item in items.iter_mut() {
                        each.filter(item, path, dropped);
                    }
                    path.truncate(len);
                }
                None => {
                    if !items.is_empty() {
                        dropped.note(|| format!("{path}[]"));
                    }
                    items.clear();
                }
            },
            Value::Null => {}
            // A scalar where the list expects an object or array: nothing of it is allowed.
            _ => {
                dropped.note(|| path.clone());
                *value = Value::Null;
            }
        }
    }

    /// Filters the fields of an object (the top level of a body, or a nested object).
    pub(crate) fn filter_object(
        &self,
        map: &mut Map<String, Value>,
        path: &mut String,
        dropped: &mut Dropped,
    ) {
        if self.whole {
            return;
        }
        map.retain(|key, child| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            let keep = match self.child(key) {
                Some(rule) => {
                    rule.filter(child, path, dropped);
                    true
                }
                None => {
                    dropped.note(|| path.clone());
                    false
                }
            };
            path.truncate(len);
            keep
        });
    }
}

/// The names along a path: `a[].b` is `a`, `[]`, `b`; `[]` alone is `[]`.
fn steps(path: &str) -> impl Iterator<Item = &str> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .flat_map(|s| match s.strip_suffix("[]") {
            Some("") => vec!["[]"],
            Some(name) => vec![name, "[]"],
            None => vec![s],
        })
}

/// Every route's list for one protocol: the defaults with the app's edits applied.
#[derive(Clone, Debug)]
pub(crate) struct Lists {
    routes: Vec<(&'static str, Allowed)>,
}

impl Lists {
    /// Builds the lists; an edit naming a route the protocol does not have is an error (its message).
    pub(crate) fn new(defaults: Defaults, edits: &[Edit]) -> Result<Self, String> {
        let mut routes = Lists::defaults(defaults).routes;
        for edit in edits {
            let (route, paths, allow) = match edit {
                Edit::Allow(r, p) => (r, p, true),
                Edit::Deny(r, p) => (r, p, false),
            };
            let Some((_, list)) = routes.iter_mut().find(|(n, _)| n == route) else {
                let known: Vec<&str> = defaults.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "no route {route:?} takes a body in this protocol; routes: {}",
                    known.join(", ")
                ));
            };
            for p in paths {
                if allow {
                    list.allow(p);
                } else {
                    list.deny(p);
                }
            }
        }
        Ok(Lists { routes })
    }

    /// The defaults alone.
    pub(crate) fn defaults(defaults: Defaults) -> Self {
        Lists {
            routes: defaults
                .iter()
                .map(|(name, paths)| (*name, Allowed::of(paths.iter())))
                .collect(),
        }
    }

    /// The list of a route (routes without a body have none: nothing is allowed).
    pub(crate) fn get(&self, route: &str) -> &Allowed {
        static NOTHING: Allowed = Allowed {
            whole: false,
            children: Vec::new(),
        };
        self.routes
            .iter()
            .find(|(n, _)| *n == route)
            .map_or(&NOTHING, |(_, a)| a)
    }
}

/// At most this many dropped names are kept for the log; the rest are only counted (a body of 95,000
/// unknown keys must not cost 95,000 strings).
const NAMED: usize = 16;

/// What a filter dropped: the first names, and how many more.
#[derive(Debug, Default)]
pub(crate) struct Dropped {
    names: Vec<String>,
    more: usize,
}

impl Dropped {
    fn note(&mut self, name: impl FnOnce() -> String) {
        if self.names.len() < NAMED {
            self.names.push(name());
        } else {
            self.more += 1;
        }
    }
}

/// Applies `allowed` to a converted body and logs the names (never the values) of what was dropped.
pub(crate) fn apply(route: &str, allowed: &Allowed, body: &mut Value) {
    let mut dropped = Dropped::default();
    allowed.filter(body, &mut String::new(), &mut dropped);
    log_dropped(route, &dropped);
}

/// Applies `allowed` to a converted object body.
pub(crate) fn apply_object(route: &str, allowed: &Allowed, body: &mut Map<String, Value>) {
    let mut dropped = Dropped::default();
    allowed.filter_object(body, &mut String::new(), &mut dropped);
    log_dropped(route, &dropped);
}

fn log_dropped(route: &str, dropped: &Dropped) {
    if !dropped.names.is_empty() {
        tracing::debug!(
            route,
            dropped = %dropped.names.join(", "),
            more = dropped.more,
            "body fields the browser may not set were dropped"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(paths: &[&str], mut body: Value) -> (Value, Vec<String>) {
        let mut dropped = Dropped::default();
        Allowed::of(paths.iter()).filter(&mut body, &mut String::new(), &mut dropped);
        (body, dropped.names)
    }

    #[test]
    fn keeps_listed_paths_and_drops_the_rest_at_every_depth() {
        let (body, dropped) = run(
            ATTACH,
            json!({
                "plan_id": "pro",
                "customize": {"price": {"amount": 0}},
                "no_billing_changes": true,
                "feature_quantities": [
                    {"feature_id": "seats", "quantity": 3, "adjustable": true},
                    {"feature_id": "x", "price": 0}
                ],
                "success_url": "https://app.example/ok"
            }),
        );
        assert_eq!(
            body,
            json!({
                "plan_id": "pro",
                "feature_quantities": [
                    {"feature_id": "seats", "quantity": 3},
                    {"feature_id": "x"}
                ],
                "success_url": "https://app.example/ok"
            })
        );
        assert_eq!(
            dropped,
            [
                "customize",
                "feature_quantities[].adjustable",
                "feature_quantities[].price",
                "no_billing_changes"
            ]
        );
    }

    #[test]
    fn a_wide_body_keeps_only_a_few_names() {
        let body = Value::Object((0..1000).map(|i| (format!("k{i}"), json!(i))).collect());
        let mut body = body;
        let mut dropped = Dropped::default();
        Allowed::of(["plan_id"]).filter(&mut body, &mut String::new(), &mut dropped);
        assert_eq!(body, json!({}));
        assert_eq!((dropped.names.len(), dropped.more), (NAMED, 1000 - NAMED));
    }

    #[test]
    fn only_what_was_sent_and_dropped_is_reported() {
        // `null` stays `null` and is not reported; an empty array has nothing to report.
        let (body, dropped) = run(&["custom_range.start"], json!({"custom_range": null}));
        assert_eq!(body, json!({"custom_range": null}));
        assert!(dropped.is_empty(), "{dropped:?}");
        let (body, dropped) = run(&["custom_range.start"], json!({"custom_range": []}));
        assert_eq!(body, json!({"custom_range": []}));
        assert!(dropped.is_empty(), "{dropped:?}");
        let (_, dropped) = run(&["custom_range.start"], json!({"custom_range": [1]}));
        assert_eq!(dropped, ["custom_range[]"]);
    }

    #[test]
    fn a_scalar_where_an_object_is_expected_is_dropped() {
        let (body, _) = run(
            &["feature_id", "custom_range.start", "custom_range.end"],
            json!({"custom_range": 5, "feature_id": "m"}),
        );
        assert_eq!(body, json!({"custom_range": null, "feature_id": "m"}));
        let (body, _) = run(
            &["feature_id", "custom_range.start", "custom_range.end"],
            json!({"custom_range": [1, 2]}),
        );
        assert_eq!(body, json!({"custom_range": []}));
    }

    #[test]
    fn top_level_arrays_and_whole_values() {
        let (body, _) = run(
            &["[].id", "expand"],
            json!([{"id": "e1", "billing_controls": {}}, {"name": "n"}]),
        );
        assert_eq!(body, json!([{"id": "e1"}, {}]));
        let (body, _) = run(&["expand"], json!({"expand": ["a", {"b": 1}]}));
        assert_eq!(body, json!({"expand": ["a", {"b": 1}]}));
    }

    #[test]
    fn edits_widen_and_narrow() {
        let lists = Lists::new(
            CURRENT,
            &[
                Edit::Allow("attach".into(), vec!["discounts[].promotion_code".into()]),
                Edit::Deny("attach".into(), vec!["success_url".into()]),
                Edit::Deny("listEvents".into(), vec!["custom_range.end".into()]),
            ],
        )
        .unwrap();
        let mut body = json!({
            "discounts": [{"promotion_code": "SPRING", "reward_id": "r"}],
            "success_url": "x",
            "plan_id": "pro"
        });
        apply("attach", lists.get("attach"), &mut body);
        assert_eq!(
            body,
            json!({"discounts": [{"promotion_code": "SPRING"}], "plan_id": "pro"})
        );
        let mut body = json!({"custom_range": {"start": 1, "end": 2}});
        apply("listEvents", lists.get("listEvents"), &mut body);
        assert_eq!(body, json!({"custom_range": {"start": 1}}));
        assert!(Lists::new(CURRENT, &[Edit::Allow("nope".into(), vec![])]).is_err());
        // A route without a list allows nothing.
        let mut body = json!({"a": 1});
        apply("unknown", lists.get("unknown"), &mut body);
        assert_eq!(body, json!({}));
    }

    #[test]
    fn denying_under_a_whole_value_keeps_nothing_unlisted() {
        let mut a = Allowed::of(["custom_range"]);
        a.deny("custom_range.end");
        let mut body = json!({"custom_range": {"start": 1, "end": 2}});
        a.filter(&mut body, &mut String::new(), &mut Dropped::default());
        assert_eq!(body, json!({"custom_range": {}}));
        let mut deep = Allowed::of(["a", "b.c"]);
        deep.deny("a.x.y");
        deep.deny("b.d.e");
        assert_eq!(deep, Allowed::default().with_empty("a").with("b.c"));
        let mut all = Allowed::of(["a"]);
        all.deny("");
        assert_eq!(all, Allowed::default());
    }

    impl Allowed {
        fn with_empty(mut self, name: &str) -> Self {
            self.child_mut(name);
            self
        }
        fn with(mut self, path: &str) -> Self {
            self.allow(path);
            self
        }
    }

    #[test]
    fn steps_split_arrays() {
        assert_eq!(Allowed::of(["x"]).child("y"), None);
        let v: Vec<&str> = steps("a[].b.c[]").collect();
        assert_eq!(v, ["a", "[]", "b", "c", "[]"]);
        let v: Vec<&str> = steps("[].id").collect();
        assert_eq!(v, ["[]", "id"]);
    }
}
