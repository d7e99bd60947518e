//! The offline Autumn's catalogue: the features and plans it sells.

use std::collections::BTreeSet;
use std::fmt;

use serde::Deserialize;

/// The features and plans an [`OfflineAutumn`](super::OfflineAutumn) sells.
///
/// Load one from JSON ([`Catalog::from_json`]) or build it in code:
///
/// ```
/// use autumn_tower::offline::{Catalog, Feature, Interval, Plan, PlanItem};
///
/// let catalog = Catalog::new()
///     .feature(Feature::metered("seats", "Seats"))
///     .feature(Feature::boolean("sso", "Single sign-on"))
///     .plan(Plan::new("team", "Team").auto_enable(true).item(PlanItem::new("seats", 3.0)))
///     .plan(
///         Plan::new("business", "Business")
///             .price(99.0, Interval::Month)
///             .item(PlanItem::new("seats", 50.0))
///             .item(PlanItem::flag("sso")),
///     );
/// assert!(catalog.validate().is_ok());
/// ```
///
/// The JSON form has the same fields in snake_case; see `src/offline/default_catalog.json`, the
/// catalogue [`Catalog::default`] returns: a `free` plan (auto-enabled, 100 `messages` a month), a
/// `pro` plan ($20 a month, 2,000 `messages` a month and the boolean `priority_support`), and a
/// `top_up` add-on ($10 once, 500 `messages` that never reset).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// The features, in display order.
    #[serde(default)]
    pub features: Vec<Feature>,
    /// The plans, in display order.
    #[serde(default)]
    pub plans: Vec<Plan>,
}

/// A feature a plan can grant.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    /// The feature id used in `check` and `track` (`"messages"`).
    pub id: String,
    /// The display name.
    pub name: String,
    /// Metered (has a balance) or boolean (on or off).
    #[serde(rename = "type")]
    pub kind: FeatureKind,
    /// Singular and plural display words (`"message"`, `"messages"`).
    #[serde(default)]
    pub display: Option<FeatureDisplay>,
    /// Event names that `track` maps to this feature, besides its id.
    #[serde(default)]
    pub event_names: Vec<String>,
}

/// Singular and plural display words of a feature.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeatureDisplay {
    /// One unit (`"message"`).
    pub singular: String,
    /// Several units (`"messages"`).
    pub plural: String,
}

/// What kind of feature it is.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// A usage balance that `track` draws down (messages, API calls, credits).
    Metered,
    /// A flag that a plan either grants or not.
    Boolean,
}

/// A plan: a price and what it grants.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The plan id used in `attach` (`"pro"`).
    pub id: String,
    /// The display name.
    pub name: String,
    /// A one-line description.
    #[serde(default)]
    pub description: Option<String>,
    /// Plans in the same group replace each other; add-ons sit beside them.
    #[serde(default)]
    pub group: Option<String>,
    /// Bought alongside the main plan instead of replacing it.
    #[serde(default)]
    pub add_on: bool,
    /// Given to every new customer (the free plan).
    #[serde(default)]
    pub auto_enable: bool,
    /// The base price; `None` is free.
    #[serde(default)]
    pub price: Option<Price>,
    /// The features granted.
    #[serde(default)]
    pub items: Vec<PlanItem>,
}

/// A plan's base price.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// The amount in US dollars.
    pub amount: f64,
    /// How often it is charged (`OneOff` for a single purchase).
    pub interval: Interval,
}

/// A billing or reset interval.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    /// Once (prices only: a one-off purchase).
    OneOff,
    /// Every day.
    Day,
    /// Every week.
    Week,
    /// Every calendar month.
    Month,
    /// Every calendar year.
    Year,
}

impl Interval {
    /// The spelling on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::OneOff => "one_off",
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
            Interval::Year => "year",
        }
    }
}

/// One feature granted by a plan.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlanItem {
    /// The feature granted.
    pub feature_id: String,
    /// The allowance of a metered feature (ignored for boolean ones).
    #[serde(default)]
    pub included: f64,
    /// No limit on a metered feature.
    #[serde(default)]
    pub unlimited: bool,
    /// When the usage goes back to zero; `None` never (a one-off grant).
    #[serde(default)]
    pub reset: Option<Interval>,
}

impl Catalog {
    /// An empty catalogue.
    pub fn new() -> Self {
        Catalog {
            features: Vec::new(),
            plans: Vec::new(),
        }
    }

    /// Adds a feature.
    pub fn feature(mut self, feature: Feature) -> Self {
        self.features.push(feature);
        self
    }

    /// Adds a plan.
    pub fn plan(mut self, plan: Plan) -> Self {
        self.plans.push(plan);
        self
    }

    /// Parses a catalogue from JSON and [validates](Catalog::validate) it.
    pub fn from_json(json: &str) -> Result<Self, CatalogError> {
        let catalog: Catalog =
            serde_json::from_str(json).map_err(|e| CatalogError(format!("invalid JSON: {e}")))?;
        catalog.validate()?;
        Ok(catalog)
    }

    /// Checks that ids are unique, plan items name known features, amounts are finite and not
    /// negative, and a one-off interval is used only for prices.
    pub fn validate(&self) -> Result<(), CatalogError> {
        let mut seen = BTreeSet::new();
        for feature in &self.features {
            if feature.id.is_empty() || !seen.insert(feature.id.as_str()) {
                return Err(CatalogError(format!(
                    "feature id {:?} is empty or repeated",
                    feature.id
                )));
            }
        }
        let mut plans = BTreeSet::new();
        for plan in &self.plans {
            if plan.id.is_empty() || !plans.insert(plan.id.as_str()) {
                return Err(CatalogError(format!(
                    "plan id {:?} is empty or repeated",
                    plan.id
                )));
            }
            if let Some(price) = plan.price {
                if !price.amount.is_finite() || price.amount < 0.0 {
                    return Err(CatalogError(format!(
                        "plan {:?}: the price must be a finite amount >= 0",
                        plan.id
                    )));
                }
            }
            for item in &plan.items {
                if !seen.contains(item.feature_id.as_str()) {
                    return Err(CatalogError(format!(
                        "plan {:?} grants the unknown feature {:?}",
                        plan.id, item.feature_id
                    )));
                }
                if !item.included.is_finite() || item.included < 0.0 {
                    return Err(CatalogError(format!(
                        "plan {:?}, feature {:?}: `included` must be a finite amount >= 0",
                        plan.id, item.feature_id
                    )));
                }
                if item.reset == Some(Interval::OneOff) {
                    return Err(CatalogError(format!(
                        "plan {:?}, feature {:?}: a reset interval cannot be one_off (leave it out \
                         for a grant that never resets)",
                        plan.id, item.feature_id
                    )));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn feature_by_id(&self, id: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.id == id)
    }

    pub(crate) fn plan_by_id(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.id == id)
    }
}

impl Default for Catalog {
    /// The catalogue the quickstart sells: `free`, `pro` and the `top_up` add-on.
    fn default() -> Self {
        Catalog::from_json(include_str!("default_catalog.json"))
            .expect("the bundled default catalogue is valid")
    }
}

impl Feature {
    /// A metered feature.
    pub fn metered(id: impl Into<String>, name: impl Into<String>) -> Self {
        Feature {
            id: id.into(),
            name: name.into(),
            kind: FeatureKind::Metered,
            display: None,
            event_names: Vec::new(),
        }
    }

    /// A boolean feature.
    pub fn boolean(id: impl Into<String>, name: impl Into<String>) -> Self {
        Feature {
            kind: FeatureKind::Boolean,
            ..Feature::metered(id, name)
        }
    }
}

impl Plan {
    /// A free plan with no items.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Plan {
            id: id.into(),
            name: name.into(),
            description: None,
            group: None,
            add_on: false,
            auto_enable: false,
            price: None,
            items: Vec::new(),
        }
    }

    /// Sets the base price in US dollars.
    pub fn price(mut self, amount: f64, interval: Interval) -> Self {
        self.price = Some(Price { amount, interval });
        self
    }

    /// Makes it an add-on.
    pub fn add_on(mut self, add_on: bool) -> Self {
        self.add_on = add_on;
        self
    }

    /// Gives it to every new customer.
    pub fn auto_enable(mut self, auto_enable: bool) -> Self {
        self.auto_enable = auto_enable;
        self
    }

    /// Adds a granted feature.
    pub fn item(mut self, item: PlanItem) -> Self {
        self.items.push(item);
        self
    }

    /// True when it costs something.
    pub(crate) fn is_paid(&self) -> bool {
        self.price.is_some_and(|p| p.amount > 0.0)
    }

    /// True for a single purchase (a one-off price).
    pub(crate) fn is_one_off(&self) -> bool {
        self.price.is_some_and(|p| p.interval == Interval::OneOff)
    }

    pub(crate) fn amount(&self) -> f64 {
        self.price.map_or(0.0, |p| p.amount)
    }
}

impl PlanItem {
    /// An allowance of a metered feature that never resets.
    pub fn new(feature_id: impl Into<String>, included: f64) -> Self {
        PlanItem {
            feature_id: feature_id.into(),
            included,
            unlimited: false,
            reset: None,
        }
    }

    /// A boolean feature.
    pub fn flag(feature_id: impl Into<String>) -> Self {
        PlanItem::new(feature_id, 0.0)
    }

    /// Resets the usage every `interval`.
    pub fn reset(mut self, interval: Interval) -> Self {
        self.reset = Some(interval);
        self
    }

    /// No limit.
    pub fn unlimited(mut self) -> Self {
        self.unlimited = true;
        self
    }
}

/// A catalogue that cannot be used, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogError(String);

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid offline Autumn catalogue: {}", self.0)
    }
}

impl std::error::Error for CatalogError {}
