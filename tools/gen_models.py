#!/usr/bin/env python3
"""Generate src/models/generated.rs (the typed client's request and response structs) from the spec.

Usage (from the repository root):

    python3 tools/gen_models.py            # reads spec/autumn-api-2.x.yml
    python3 tools/gen_models.py SPEC.yml   # another copy of the spec
    python3 tools/gen_models.py --names    # also prints every struct with the spec paths it came from
    python3 tools/gen_models.py --check    # exits 1 if src/models/generated.rs is not what it would write

Requires Python 3.11, PyYAML and rustfmt (the output is formatted with it).

For each operation of the typed client (OPS below) the request and the 200 response are walked with
the same path conventions and the same OVERRIDES as tools/gen_schema.py (so the models describe
API 2.4.0 as autumn-js 1.3.13 sees it, not only the 2.3.0 spec). Every object becomes a struct:

- its name is the parent struct's name + the field's name (`PlanPrice`), unless RENAME gives it a
  shared one; every place mapped to the same name is merged into one struct (a field is required
  only where every place requires it and none makes it nullable), which is how `Customer`,
  `Balance`, `Plan`, `Feature`, ... are one struct each, reused by every operation;
- a required, non-nullable field is a plain value; anything else is an `Option`, omitted from the
  JSON when unset;
- enum-like values are `String`s (the accepted values are listed in the field's docs);
- maps are `BTreeMap<String, T>` (or `serde_json::Map` for free-form values): their keys are user
  data (feature ids, metadata keys) and are never renamed;
- every struct has `extra`, a flattened JSON map that keeps unknown fields;
- structs used in requests get `new(required fields)` and one setter per optional field.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import OrderedDict

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_schema import OVERRIDES as SCHEMA_OVERRIDES  # noqa: E402
from gen_schema import apply_patch, glob_match, rustfmt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SPEC = os.path.join(ROOT, "spec", "autumn-api-2.x.yml")
OUT = os.path.join(ROOT, "src", "models", "generated.rs")

# (operation, request struct, response struct). Operations sharing a name share one struct.
# The operations, from tools/gen_ops.py (the one table of operations): (path, request struct, response
# struct), in TYPES order then the spec's. Filled by `main`. Operations sharing a name share one struct.
OPS: list = []

# Overrides of our own, in gen_schema's syntax, applied after its ones.
LOCAL_OVERRIDES = [
    # The customer id is what the call is about: required here (the API takes null for anonymous
    # customers, which `extra` can still send).
    ("req /v1/customers.get_or_create .customer_id", {"-null": True}),
    # The spec copies the description of `properties` onto `override_value`.
    (
        "req /v1/balances.finalize .override_value",
        {"description": "The amount to record instead of the locked one (confirm only)."},
    ),
]

# Default name (parent + field) -> shared name. Places mapped to one name become one struct.
RENAME = {
    # customers
    "CustomerBillingControls": "BillingControls",
    "GetOrCreateCustomerParamsBillingControls": "BillingControls",
    "UpdateCustomerParamsBillingControls": "BillingControls",
    "BillingControlsAutoTopups": "AutoTopup",
    "AutoTopupPurchaseLimit": "PurchaseLimit",
    "BillingControlsSpendLimits": "SpendLimit",
    "BillingControlsUsageLimits": "UsageLimit",
    "UsageLimitFilter": "PropertyFilter",
    "BillingControlsUsageAlerts": "UsageAlert",
    "UsageAlertFilter": "PropertyFilter",
    "BillingControlsOverageAllowed": "OverageAllowed",
    "CustomerSubscriptions": "Subscription",
    "CustomerPurchases": "Purchase",
    "CustomerLicenses": "License",
    "CustomerBalances": "Balance",
    "CustomerFlags": "Flag",
    "CustomerConfig": "CustomerConfig",
    "GetOrCreateCustomerParamsConfig": "CustomerConfig",
    "UpdateCustomerParamsConfig": "CustomerConfig",
    "CustomerProcessors": "CustomerProcessors",
    "CustomerProcessorsStripe": "StripeCustomer",
    "CustomerProcessorsVercel": "VercelInstallation",
    "CustomerProcessorsRevenuecat": "RevenueCatCustomer",
    "CustomerInvoices": "Invoice",
    "CustomerInvoicePreviews": "InvoicePreview",
    "InvoicePreviewLineItems": "LineItem",
    "LineItemDiscounts": "LineItemDiscount",
    "LineItemPeriod": "Period",
    "CustomerEntities": "EntitySummary",
    "CustomerTrialsUsed": "TrialUsed",
    "CustomerRewards": "CustomerRewards",
    "CustomerRewardsDiscounts": "Discount",
    "CustomerReferrals": "Referral",
    "ReferralCustomer": "ReferredCustomer",
    "CustomerListList": "Customer",
    "ListCustomersParamsPlans": "PlanFilter",
    "ListCustomersParamsCreatedAtRange": "TimeRange",
    "CustomerData": "CustomerData",
    # entities
    "EntitySubscriptions": "Subscription",
    "EntityPurchases": "Purchase",
    "EntityBalances": "Balance",
    "EntityFlags": "Flag",
    "EntityBillingControls": "BillingControls",
    "CreateEntityParamsBillingControls": "BillingControls",
    "UpdateEntityParamsBillingControls": "BillingControls",
    "EntityInvoices": "Invoice",
    "EntityListList": "Entity",
    "CreateEntityParamsCustomerData": "CustomerData",
    "UpdateEntityParamsCustomerData": "CustomerData",
    # balances and features
    "BalanceFeature": "Feature",
    "FlagFeature": "Feature",
    "FeatureListList": "Feature",
    "FeatureCreditSchema": "CreditSchema",
    "CreditSchemaTiers": "CreditTier",
    "CreditSchemaDimensions": "CreditDimension",
    "CreditDimensionTiers": "CreditTier",
    "CreditSchemaMultipliers": "CreditMultiplier",
    "FeatureModelMarkups": "ModelMarkup",
    "FeatureProviderMarkups": "ProviderMarkup",
    "FeatureDisplay": "FeatureDisplay",
    "FeatureProcessors": "FeatureProcessors",
    "FeatureProcessorsStripe": "StripeFeature",
    "BalanceBreakdown": "BalanceBreakdown",
    "BalanceBreakdownReset": "BalanceReset",
    "BalanceBreakdownPrice": "BalancePrice",
    "BalancePriceTiers": "PriceTier",
    "BalanceRollovers": "Rollover",
    "CheckResponseBalance": "Balance",
    "CheckResponseBalances": "Balance",
    "CheckResponseFlag": "Flag",
    "CheckResponsePreview": "CheckPreview",
    "CheckParamsLock": "BalanceLock",
    "TrackParamsLock": "BalanceLock",
    "TrackResponseBalance": "Balance",
    "TrackResponseBalances": "Balance",
    "TrackResponseDeductions": "Deduction",
    "DeductionReset": "BalanceReset",
    # plans
    "PlanListList": "Plan",
    "SubscriptionPlan": "Plan",
    "PurchasePlan": "Plan",
    "PlanPrice": "PlanPrice",
    "PlanPriceAdditionalCurrencies": "CurrencyAmount",
    "PlanPriceDisplay": "PriceDisplay",
    "PlanPriceProcessors": "PriceProcessors",
    "PriceProcessorsStripe": "StripePrice",
    "PlanItems": "PlanItem",
    "PlanItemFeature": "Feature",
    "PlanItemReset": "ItemReset",
    "PlanItemPrice": "ItemPrice",
    "ItemPriceAdditionalCurrencies": "CurrencyAmount",
    "ItemPriceTiers": "PriceTier",
    "PriceTierAdditionalCurrencies": "TierCurrencyAmount",
    "ItemPriceProcessors": "PriceProcessors",
    "PlanItemDisplay": "PriceDisplay",
    "PlanItemRollover": "RolloverConfig",
    "PlanItemExpiry": "ItemExpiry",
    "PlanItemFeatureOverride": "FeatureOverride",
    "PlanItemThresholdBilling": "ThresholdBilling",
    "PlanFreeTrial": "FreeTrial",
    "PlanVariantDetails": "VariantDetails",
    "VariantDetailsCustomize": "PlanCustomization",
    "PlanConfig": "PlanConfig",
    "PlanBillingControls": "BillingControls",
    "PlanCustomerEligibility": "CustomerEligibility",
    "PlanProcessors": "PlanProcessors",
    "PlanProcessorsStripe": "StripeProduct",
    "PlanProcessorsRevenuecat": "RevenueCatProducts",
    "RevenueCatProductsProducts": "RevenueCatProduct",
    "RevenueCatProductFeatureQuantities": "FeatureQuantity",
    "PlanLicenses": "PlanLicense",
    "PlanLicenseCustomize": "PlanCustomization",
    "PlanLicensePlan": "Plan",
    "PlanVariants": "PlanVariant",
    "PlanVariantCustomize": "PlanCustomization",
    "PlanVariantPlan": "Plan",
    # customizations (attach, update, variants, licenses)
    "AttachParamsCustomize": "PlanCustomization",
    "UpdateSubscriptionParamsCustomize": "PlanCustomization",
    "SetupPaymentParamsCustomize": "PlanCustomization",
    "MultiAttachParamsPlansCustomize": "PlanCustomization",
    "PlanCustomizationPrice": "PlanPrice",
    "PlanCustomizationItems": "ItemConfig",
    "PlanCustomizationAddItems": "ItemConfig",
    "ItemConfigReset": "ItemReset",
    "ItemConfigPrice": "ItemPrice",
    "ItemConfigProration": "Proration",
    "ItemConfigRollover": "RolloverConfig",
    "ItemConfigExpiry": "ItemExpiry",
    "ItemConfigFeatureOverride": "FeatureOverride",
    "ItemConfigThresholdBilling": "ThresholdBilling",
    "FeatureOverrideCreditSchema": "CreditSchema",
    "FeatureOverrideMarkups": "Markups",
    "MarkupsModelMarkups": "ModelMarkup",
    "MarkupsProviderMarkups": "ProviderMarkup",
    "PlanCustomizationRemoveItems": "ItemFilter",
    "PlanCustomizationFreeTrial": "FreeTrial",
    "PlanCustomizationBillingControls": "BillingControls",
    "PlanCustomizationUpsertLicenses": "LicenseConfig",
    "LicenseConfigCustomize": "PlanCustomization",
    "PlanCustomizationRemoveLicenses": "LicenseRef",
    # billing requests
    "AttachParamsFeatureQuantities": "FeatureQuantity",
    "UpdateSubscriptionParamsFeatureQuantities": "FeatureQuantity",
    "SetupPaymentParamsFeatureQuantities": "FeatureQuantity",
    "MultiAttachParamsPlansFeatureQuantities": "FeatureQuantity",
    "AttachParamsInvoiceMode": "InvoiceMode",
    "UpdateSubscriptionParamsInvoiceMode": "InvoiceMode",
    "MultiAttachParamsInvoiceMode": "InvoiceMode",
    "SetupPaymentParamsInvoiceMode": "InvoiceMode",
    "AttachParamsDiscounts": "DiscountRef",
    "UpdateSubscriptionParamsDiscounts": "DiscountRef",
    "MultiAttachParamsDiscounts": "DiscountRef",
    "SetupPaymentParamsDiscounts": "DiscountRef",
    "AttachParamsCustomLineItems": "CustomLineItem",
    "UpdateSubscriptionParamsCustomLineItems": "CustomLineItem",
    "SetupPaymentParamsCustomLineItems": "CustomLineItem",
    "AttachParamsCarryOverBalances": "CarryOver",
    "AttachParamsCarryOverUsages": "CarryOver",
    "UpdateSubscriptionParamsCarryOverBalances": "CarryOver",
    "UpdateSubscriptionParamsCarryOverUsages": "CarryOver",
    "SetupPaymentParamsCarryOverBalances": "CarryOver",
    "SetupPaymentParamsCarryOverUsages": "CarryOver",
    "AttachParamsLicenseQuantities": "LicenseQuantity",
    "UpdateSubscriptionParamsLicenseQuantities": "LicenseQuantity",
    "SetupPaymentParamsLicenseQuantities": "LicenseQuantity",
    "AttachParamsFreeTrial": "FreeTrial",
    "UpdateSubscriptionParamsFreeTrial": "FreeTrial",
    "SetupPaymentParamsFreeTrial": "FreeTrial",
    "MultiAttachParamsFreeTrial": "FreeTrial",
    "MultiAttachParamsPlans": "PlanToAttach",
    "PlanToAttachCustomize": "PlanCustomization",
    "PlanToAttachFeatureQuantities": "FeatureQuantity",
    "MultiAttachParamsCustomerData": "CustomerData",
    "MultiAttachParamsEntityData": "EntityData",
    "AttachParamsCustomerData": "CustomerData",
    "AttachParamsEntityData": "EntityData",
    "SetupPaymentParamsCustomerData": "CustomerData",
    "SetupPaymentParamsEntityData": "EntityData",
    "UpdateSubscriptionParamsCustomerData": "CustomerData",
    "UpdateSubscriptionParamsEntityData": "EntityData",
    "CheckParamsCustomerData": "CustomerData",
    "TrackParamsCustomerData": "CustomerData",
    "CheckParamsEntityData": "EntityData",
    "TrackParamsEntityData": "EntityData",
    "EntityDataBillingControls": "BillingControls",
    # billing responses
    "BillingResponseInvoice": "BillingInvoice",
    "BillingResponseRequiredAction": "RequiredAction",
    "BillingPreviewLineItems": "LineItem",
    "BillingPreviewNextCycle": "NextCycle",
    "NextCycleLineItems": "LineItem",
    "NextCycleUsageLineItems": "UsageLineItem",
    "UsageLineItemPeriod": "Period",
    "BillingPreviewIncoming": "PlanChange",
    "BillingPreviewOutgoing": "PlanChange",
    "PlanChangePlan": "Plan",
    "PlanChangeFeatureQuantities": "FeatureQuantity",
    "BillingPreviewTax": "TaxPreview",
    "BillingPreviewInvoiceCredits": "InvoiceCredits",
    # events
    "EventListList": "Event",
    "EventDeductions": "Deduction",
    "ListEventsParamsCustomRange": "TimeRange",
    "AggregateEventsParamsCustomRange": "TimeRange",
    "EventAggregateList": "AggregateBin",
    "EventAggregateTotal": "AggregateTotal",
    "EventAggregateDeductions": "DeductionBin",
    "DeductionBinValues": "DeductionValue",
    "CheckPreviewProducts": "PreviewProduct",
    "PreviewProductBillingControls": "BillingControls",
    "PreviewProductFreeTrial": "ProductFreeTrial",
    "PreviewProductItems": "ProductItem",
    "ProductItemConfig": "ProductItemConfig",
    "ProductItemConfigRollover": "ProductItemRollover",
    "ProductItemDisplay": "PriceDisplay",
    "ProductItemExpiry": "ItemExpiry",
    "ProductItemFeatureOverride": "FeatureOverride",
    "ProductItemThresholdBilling": "ThresholdBilling",
    "PreviewProductProperties": "ProductProperties",
    "CustomerDataBillingControls": "BillingControls",
    "CustomerDataConfig": "CustomerConfig",
    "ListEntitiesParamsPlans": "PlanFilter",
    "UpdateSubscriptionParamsRecalculateBalances": "RecalculateBalances",
    "DeductionBinGroupedValues": "GroupedDeduction",
    "DeductionValueBalances": "BalanceDeduction",
    "BalanceDeductionReset": "BalanceReset",
    # operations typed later
    "CreatePlanParamsPrice": "PlanPrice",
    "CreatePlanParamsItems": "ItemConfig",
    "UpdatePlanParamsPrice": "PlanPrice",
    "UpdatePlanParamsItems": "ItemConfig",
    "CreateBalanceParamsReset": "ItemReset",
    "CreatePlanParamsLicenses": "LicenseConfig",
    "CreatePlanParamsFreeTrial": "FreeTrial",
    "CreatePlanParamsConfig": "PlanConfig",
    "CreatePlanParamsBillingControls": "BillingControls",
    "UpdatePlanParamsLicenses": "LicenseConfig",
    "UpdatePlanParamsFreeTrial": "FreeTrial",
    "UpdatePlanParamsConfig": "PlanConfig",
    "UpdatePlanParamsBillingControls": "BillingControls",
    "CreateFeatureParamsDisplay": "FeatureDisplay",
    "CreateFeatureParamsCreditSchema": "CreditSchema",
    "CreateFeatureParamsModelMarkups": "ModelMarkup",
    "CreateFeatureParamsProviderMarkups": "ProviderMarkup",
    "UpdateFeatureParamsDisplay": "FeatureDisplay",
    "UpdateFeatureParamsCreditSchema": "CreditSchema",
    "UpdateFeatureParamsModelMarkups": "ModelMarkup",
    "UpdateFeatureParamsProviderMarkups": "ProviderMarkup",
    "CreateScheduleParamsFreeTrial": "FreeTrial",
    "CreateScheduleParamsInvoiceMode": "InvoiceMode",
    "CreateScheduleParamsDiscounts": "DiscountRef",
    "CreateScheduleParamsUnscheduledPlans": "PlanToAttach",
    "CreateScheduleParamsCustomerData": "CustomerData",
    "CreateScheduleParamsEntityData": "EntityData",
    "ScheduleResponseInvoice": "BillingInvoice",
    "ScheduleResponseRequiredAction": "RequiredAction",
    "MultiUpdatePreviewSubscriptionsIncoming": "PlanChange",
    "MultiUpdatePreviewSubscriptionsOutgoing": "PlanChange",
    "ImportParamsCustomerData": "CustomerData",
    "ImportResponseCustomer": "Customer",
    "InvoiceListList": "Invoice",
    "InsertInvoicesResponseInvoices": "Invoice",
    "LicenseListList": "License",
    "ReferralProgramListList": "ReferralProgram",
    "RewardListCoupons": "RewardCoupon",
    "RewardListFeatureGrants": "RewardFeatureGrant",
}

# Struct docs (the first place a struct is met gives one from the spec otherwise).
STRUCT_DOCS = {
    "Customer": "A customer: subscriptions, purchases, balances and flags (`customers.*` answers).",
    "Entity": "An entity (a seat, workspace, ... of a customer) with its own subscriptions and balances.",
    "EntitySummary": "An entity as listed inside a customer.",
    "Plan": "A plan of the catalogue: price, items, free trial (`plans.*` answers, expanded plans).",
    "Feature": "A feature: what balances and flags are about.",
    "Balance": "A customer's (or entity's) balance of one metered feature.",
    "Flag": "A boolean feature the customer has.",
    "Subscription": "A recurring plan attached to a customer or entity.",
    "Purchase": "A one-time purchase of a plan.",
    "Event": "A usage event.",
    "BillingControls": "Billing controls (auto top-ups, spend limits, usage limits, alerts, overage) of a customer, entity or plan.",
    "PlanCustomization": "Changes to a plan for one customer (attach, update) or for a variant or license.",
    "ItemConfig": "One plan item as a customization sets it.",
    "BillingResponse": "The answer of `billing.attach`, `billing.update` and `billing.multi_attach`.",
    "BillingPreview": "What a billing change would do (`billing.preview_attach`, `preview_update`, `preview_multi_attach`).",
    "CheckResponse": "The answer of `balances.check`.",
    "TrackResponse": "The answer of `balances.track`.",
    "BatchTrackResponse": "The answer of `balances.batch_track`.",
    "FinalizeResponse": "The answer of `balances.finalize`.",
    "DeleteResponse": "The answer of `customers.delete` and `entities.delete`.",
    "CustomerList": "A page of customers (`customers.list`).",
    "EntityList": "A customer's entities (`entities.list`).",
    "PlanList": "The plans (`plans.list`).",
    "FeatureList": "The features (`features.list`).",
    "EventList": "A page of usage events (`events.list`).",
    "EventAggregate": "Usage aggregated over time (`events.aggregate`).",
    "SetupPaymentResponse": "The answer of `billing.setup_payment`.",
    "CustomerPortal": "The answer of `billing.open_customer_portal`.",
    "ReferralCode": "The answer of `referrals.create_code`.",
    "ReferralRedemption": "The answer of `referrals.redeem_code`.",
    "CustomerData": "Customer attributes used when a call creates the customer.",
    "EntityData": "Entity attributes used when a call creates the entity.",
    "PriceTier": "One tier of a tiered price.",
    "CreditTier": "One tier of a tiered credit cost.",
    "LineItem": "One line of an invoice or preview.",
    "AutoTopup": "An automatic top-up of a credit balance when it drops below a threshold.",
    "PurchaseLimit": "How often auto top-ups may happen (and, in answers, how many the current window used).",
    "SpendLimit": "A cap on overage spend for a feature.",
    "UsageLimit": "A hard cap on the units of a feature used per interval.",
    "UsageAlert": "An alert when usage or the remaining balance crosses a threshold.",
    "OverageAllowed": "Whether usage of a feature may exceed its balance.",
    "PropertyFilter": "Event property values a usage limit or alert counts.",
    "PlanItem": "A feature a plan grants: included units, price, reset and rollover.",
    "PlanPrice": "A plan's base price.",
    "ItemPrice": "The price of a plan item beyond its included units (flat or tiered).",
    "ItemReset": "When an item's balance resets.",
    "License": "A seat pool the customer's plans grant.",
    "PlanLicense": "A license a plan offers.",
    "PlanVariant": "A variant of a plan.",
    "BalanceBreakdown": "One source of a balance (a plan, a grant, a top-up) when several stack.",
    "BalanceReset": "When a balance resets.",
    "BalancePrice": "The price of usage beyond a balance's grant.",
    "Rollover": "Units rolled over from a previous period.",
    "RolloverConfig": "How unused units roll over.",
    "Invoice": "An invoice of the customer or entity.",
    "BillingInvoice": "The invoice a billing call created.",
    "InvoicePreview": "An upcoming invoice of one of the customer's subscriptions.",
    "Discount": "A discount applied to the customer.",
    "LineItemDiscount": "A discount on a line item.",
    "Referral": "A customer the customer referred.",
    "TrialUsed": "A free trial the customer (or the fingerprint) used.",
    "CustomerEligibility": "What attaching the plan would do for the customer named in the request.",
    "CreditSchema": "The credit cost of a metered feature in a credit system.",
    "CreditDimension": "A credit cost that applies to events with given property values.",
    "CreditMultiplier": "A credit multiplier for events with given property values.",
    "FeatureOverride": "Per-item overrides of a feature's credit schema and AI markups.",
    "Markups": "AI model and provider markups.",
    "ModelMarkup": "Markup and costs for one AI model.",
    "ProviderMarkup": "Markup for one AI provider.",
    "ThresholdBilling": "Bill usage as soon as it reaches a threshold.",
    "ItemExpiry": "When units granted by an item expire.",
    "LicenseConfig": "A license a plan offers, as a customization adds or changes it.",
    "LicenseRef": "A license, by its plan id.",
    "PlanProcessors": "The plan's products at the payment processors.",
    "StripeProduct": "The plan's Stripe product ids.",
    "RevenueCatProducts": "The plan's RevenueCat products.",
    "RevenueCatProduct": "A RevenueCat product mapped to the plan.",
    "PriceProcessors": "The price's ids at the payment processors.",
    "StripePrice": "The price's Stripe id.",
    "FeatureProcessors": "The feature's ids at the payment processors.",
    "StripeFeature": "The feature's Stripe meter and product.",
    "CurrencyAmount": "An amount in another currency.",
    "TierCurrencyAmount": "A tier's amounts in another currency.",
    "CustomerRewards": "Rewards earned or applied for the customer.",
    "AggregateBin": "One time bin of `events.aggregate`.",
    "AggregateTotal": "Count and sum of one feature's events over the whole range.",
    "DeductionBin": "What one time bin consumed, per balance.",
    "DeductionValue": "What was consumed from the balances of one feature in a time bin.",
    "BalanceDeduction": "What was consumed from one balance in a time bin.",
    "GroupedDeduction": "What one group value consumed from a balance.",
    "Deduction": "What an event deducted from one balance.",
    "FeatureQuantity": "A quantity of one (prepaid) feature.",
    "PlanChange": "A plan a billing change adds, updates or removes.",
    "PreviewProduct": "A product that would grant the feature (a `balances.check` preview).",
    "ProductItem": "An item of a preview product.",
    "ProductItemConfig": "Rollover and proration of a preview product's item.",
    "ProductItemRollover": "Rollover of a preview product's item.",
    "ProductFreeTrial": "The free trial of a preview product.",
    "ProductProperties": "Summary properties of a preview product.",
    "ReferredCustomer": "The customer a referral brought.",
    "PlanFilter": "A plan (and optionally versions) to filter by.",
    "CustomLineItem": "An invoice line replacing the generated proration lines.",
    "LicenseQuantity": "The number of seats of one license.",
    "UsageLineItem": "A usage-based line of the next cycle.",
    "PlanToAttach": "One plan of a `billing.multi_attach`.",
    "CarryOver": "Whether (and for which features) balances or usage carry over from the previous plan.",
    "TimeRange": "A time range in milliseconds since the epoch (both bounds inclusive, both optional).",
    "PriceDisplay": "Display text for a price or item on a pricing page.",
    "FreeTrial": "A free trial: its length, whether a card is needed, what happens at its end.",
}

# Request structs: doc line per operation (with the operation's path). Filled by `main`.
PARAM_DOCS: dict = {}

# Fields with no description in the spec.
FIELD_DOCS = {
    "to": "Where the tier ends: a number of units, or `\"inf\"` for the last tier.",
    "amount": "The amount.",
    "flat_amount": "A flat amount charged for reaching the tier.",
    "credit_cost": "Credits per unit.",
    "markup": "Markup percentage.",
    "input_cost": "Cost per input token.",
    "output_cost": "Cost per output token.",
    "success": "Whether the call succeeded.",
    "plan_id": "The plan.",
    "customer_id": "The customer.",
    "fingerprint": "The fingerprint that used the trial.",
    "program_id": "The referral program.",
    "customer": "The referred customer.",
    "reward_applied": "Whether the reward was applied.",
    "created_at": "When it was created (milliseconds since the epoch).",
    "id": "The id.",
    "name": "The name.",
    "email": "The email.",
    "versions": "Plan versions to match.",
    "amount_off": "Amount taken off.",
    "percent_off": "Percentage taken off.",
    "reward_id": "The reward.",
    "reward_name": "The reward's name.",
    "tier_behavior": "How tiers apply.",
    "license_plan_id": "The license plan.",
    "included": "Seats included.",
    "prepaid_only": "Whether seats are prepaid only.",
    "customize": "Changes to the plan.",
    "metadata": "Your metadata; keys are kept byte for byte.",
    "intent": "What the update would do.",
    "version_slug": "The plan version's slug.",
    "version": "The plan version.",
    "variant_plan_id": "The variant's plan id.",
    "plan": "The plan, when expanded.",
    "match": "Property values an event must have.",
    "priority": "Priority among dimensions.",
    "factor": "Multiplier applied.",
    "add": "Amount added.",
    "dimensions": "Credit costs per property values.",
    "multipliers": "Multipliers per property values.",
    "billing_units": "Units per billing increment.",
    "duration": "Expiry unit.",
    "length": "Expiry length.",
    "threshold": "Threshold.",
    "expiry": "When granted units expire.",
    "feature_override": "Per-item feature overrides (credit schema, markups).",
    "threshold_billing": "Bill when usage reaches a threshold.",
    "credit_schema": "Credit costs of metered features.",
    "markups": "AI model markups.",
    "default_markup": "Default markup percentage.",
    "model_markups": "Markups per model.",
    "provider_markups": "Markups per provider.",
    "active": "Whether the plan is active.",
    "processors": "Payment processor ids.",
    "licenses": "Licenses the plan offers.",
    "variants": "Variants of the plan.",
    "price_id": "Stripe price id.",
    "product_id": "Product id.",
    "additional_product_ids": "Other Stripe product ids.",
    "products": "RevenueCat products.",
    "feature_quantities": "Feature quantities.",
    "meter_id": "Stripe meter id.",
    "stripe": "Stripe ids.",
    "revenuecat": "RevenueCat ids.",
    "basis": "What the alert threshold is measured against.",
    "filter": "Only count events with these property values.",
    "properties": "Property values to match; keys are kept byte for byte.",
    "resets_usage": "Whether the change resets usage.",
    "applied": "Credit applied.",
    "subscription_params": "Stripe subscription parameters, sent as-is.",
    "remove_licenses": "Licenses to remove.",
    "upsert_licenses": "Licenses to add or change.",
    "billing_cycle_anchor": "The billing cycle anchor (`\"now\"` or a timestamp).",
    "free_trial": "A free trial.",
    "custom_line_items": "Invoice lines replacing the generated ones.",
    "entity_data": "Entity attributes used when the entity is created.",
    "customer_data": "Customer attributes used when the customer is created.",
    "lock": "A lock reserving units until finalised.",
    "interval": "The interval.",
    "on_increase": "Billing when the quantity goes up.",
    "on_decrease": "Credit when the quantity goes down.",
    "rollover": "Rollover of unused units.",
    "max": "Most units rolled over.",
    "max_percentage": "Most units rolled over, as a percentage of the grant.",
    "primary_text": "Main display text.",
    "secondary_text": "Secondary display text.",
    "metered_feature_id": "The metered feature that draws from the credits.",
    "tiers": "Tiers.",
    "balances": "Balances per feature id (keys kept byte for byte).",
    "flags": "Boolean features per feature id (keys kept byte for byte).",
    "purchases": "One-time purchases.",
    "subscriptions": "Recurring plans attached.",
    "deducted": "Amount deducted.",
    "events": "Number of events.",
    "resets_at": "When the balance next resets (milliseconds since the epoch).",
    "list": "The items.",
    "customer_eligibility": "What attaching the plan would do for the customer given in the request.",
    "currency": "Three-letter currency code.",
}

RUST_KEYWORDS = {"type", "async", "ref", "match", "move", "mod", "fn", "impl", "loop", "use", "where", "self", "super", "crate", "struct", "enum", "trait", "let", "const", "static", "return", "in", "for", "if", "else", "while", "break", "continue", "true", "false", "as", "dyn", "pub", "mut", "unsafe", "extern", "override", "final", "box", "do", "yield", "macro", "priv", "abstract", "become", "typeof", "unsized", "virtual", "try", "await"}

# Structs whose constructor is written by hand in src/models/mod.rs.
CUSTOM_NEW = {"TrackParams"}
# Extra Rust-only fields: struct -> [(name, type, attribute, doc)].
RUST_ONLY_FIELDS = {
    "TrackParams": [
        (
            "idempotency_key",
            "Option<String>",
            "#[serde(skip)]",
            "The `Idempotency-Key` header (never in the body). When unset the client generates one before the\n"
            "    /// first attempt and reuses it on every retry.",
        )
    ],
}


def camel_type(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[_\W]+", name) if p)


class Field:
    def __init__(self, name):
        self.name = name
        self.ty = None
        self.present = 0
        self.required = 0
        self.listed = 0
        self.nullable = False
        self.doc = None
        self.enum = []
        self.default = None


class Struct:
    def __init__(self, name):
        self.name = name
        self.fields: OrderedDict[str, Field] = OrderedDict()
        self.visits = 0
        self.sides = set()
        self.doc = None
        self.paths = []


class Gen:
    def __init__(self, spec):
        self.spec = spec
        self.structs: OrderedDict[str, Struct] = OrderedDict()
        self.overrides = SCHEMA_OVERRIDES + LOCAL_OVERRIDES
        self.warnings = []

    def resolve(self, s):
        while isinstance(s, dict) and "$ref" in s:
            cur = self.spec
            for part in s["$ref"][2:].split("/"):
                cur = cur[part.replace("~1", "/").replace("~0", "~")]
            s = {**cur, **{k: v for k, v in s.items() if k != "$ref"}}
        return s

    def found(self, side, op, path):
        key = "%s %s %s" % (side, op, path)
        return [p for pat, p in self.overrides if glob_match(pat, key)]

    # -> (type, nullable, description, enum values, default)
    def conv(self, s, side, op, path, ctx, pending=None, depth=0):
        assert depth < 60, (op, path)
        s = self.resolve(s)
        if pending is None:
            found = self.found(side, op, path)
            for patch in found:
                if "=" in patch:
                    s = self.resolve(patch["="])
            pending = [p for p in found if "=" not in p]
        for patch in pending:
            s = self.resolve(apply_patch(s, patch))
        desc = s.get("description")
        default = s.get("default")
        if "anyOf" in s or "oneOf" in s:
            opts = [self.resolve(o) for o in (s.get("anyOf") or s.get("oneOf"))]
            nullable = any(o.get("type") == "null" for o in opts)
            rest = [o for o in opts if o.get("type") != "null"]
            if len(rest) == 1:
                t, n2, d2, e2, df2 = self.conv(rest[0], side, op, path, ctx, pending, depth + 1)
                return t, nullable or n2, desc or d2, e2, default if default is not None else df2
            if not rest:
                return ("value",), True, desc, [], default
            kinds = [self.kind(o) for o in rest]
            if all(k == "obj" for k in kinds):
                for k, o in enumerate(rest):
                    t, _, _, _, _ = self.conv(o, side, op, "%s|%d" % (path, k), ctx, None, depth + 1)
                return t, nullable, desc, [], default
            if all(k == "str" for k in kinds):
                values = []
                for o in rest:
                    values += o.get("enum", []) + ([o["const"]] if "const" in o else [])
                return ("str",), nullable, desc, list(dict.fromkeys(values)), default
            if sorted(kinds) == ["arr_str", "str"]:
                return ("one_or_many",), nullable, desc, [], default
            if sorted(kinds) == ["num", "str"] and path.endswith(".to"):
                return ("tier_limit",), nullable, desc, [], default
            return ("value",), nullable, desc, [], default
        t = s.get("type")
        nullable = False
        if isinstance(t, list):
            nullable = "null" in t
            t2 = [x for x in t if x != "null"]
            t = t2[0] if t2 else "null"
        if "const" in s:
            if isinstance(s["const"], bool):
                return ("bool",), nullable, desc, [], default
            return ("str",), nullable, desc, [s["const"]], default
        if "enum" in s:
            return ("str",), nullable, desc, list(s["enum"]), default
        if t == "object" or "properties" in s:
            props = s.get("properties")
            if props or path == "":
                name = RENAME.get(ctx, ctx)
                st = self.structs.get(name)
                if st is None:
                    st = self.structs[name] = Struct(name)
                st.visits += 1
                st.sides.add(side)
                st.paths.append("%s %s %s" % (side, op, path or "."))
                if st.doc is None and desc:
                    st.doc = desc
                req = set(s.get("required", []))
                for fname, ps in (props or {}).items():
                    ft, fn, fd, fe, fdef = self.conv(ps, side, op, path + "." + fname, name + camel_type(fname), None, depth + 1)
                    f = st.fields.get(fname)
                    if f is None:
                        f = st.fields[fname] = Field(fname)
                    f.present += 1
                    if fname in req and not fn:
                        f.required += 1
                    if fname in req:
                        f.listed += 1
                    f.nullable = f.nullable or fn
                    f.ty = ft if f.ty is None else self.merge(f.ty, ft, name, fname)
                    if f.doc is None and fd:
                        f.doc = fd
                    for v in fe:
                        if v not in f.enum:
                            f.enum.append(v)
                    if f.default is None and fdef is not None:
                        f.default = fdef
                return ("struct", name), nullable, desc, [], default
            ap = s.get("additionalProperties", {})
            if ap is True or ap == {} or ap is None:
                return ("map", ("value",)), nullable, desc, [], default
            vt, vn, _, _, _ = self.conv(ap, side, op, path + "{}", ctx, None, depth + 1)
            self.describe(vt, desc)
            return ("map", ("opt", vt) if vn else vt), nullable, desc, [], default
        if t == "array":
            it, inull, _, _, _ = self.conv(s.get("items", {}), side, op, path + "[]", ctx, None, depth + 1)
            self.describe(it, desc)
            return ("vec", ("opt", it) if inull else it), nullable, desc, [], default
        if t == "string":
            return ("str",), nullable, desc, [], default
        if t == "number":
            return ("f64",), nullable, desc, [], default
        if t == "integer":
            return ("i64",), nullable, desc, [], default
        if t == "boolean":
            return ("bool",), nullable, desc, [], default
        if t is None or t == "null":
            return ("value",), nullable or t == "null", desc, [], default
        raise SystemExit("unsupported schema at %s %s: %r" % (op, path, s))

    def describe(self, t, desc):
        """A struct met as a list item or map value takes the list's (map's) description."""
        if t[0] == "struct" and desc and self.structs[t[1]].doc is None:
            self.structs[t[1]].doc = "An entry of: " + desc[:1].lower() + desc[1:]

    def kind(self, o):
        o = self.resolve(o)
        t = o.get("type")
        if "const" in o and isinstance(o["const"], str) or "enum" in o or t == "string":
            return "str"
        if t == "object" or "properties" in o:
            return "obj" if o.get("properties") else "map"
        if t == "array":
            return "arr_str" if self.kind(o.get("items", {})) == "str" else "arr"
        if t in ("number", "integer"):
            return "num"
        return str(t)

    def merge(self, a, b, sname, fname):
        if a == b:
            return a
        if {a[0], b[0]} == {"f64", "i64"}:
            return ("f64",)
        if a[0] == b[0] and a[0] in ("vec", "map"):
            return (a[0], self.merge(a[1], b[1], sname, fname))
        if a[0] == "opt" or b[0] == "opt":
            ia = a[1] if a[0] == "opt" else a
            ib = b[1] if b[0] == "opt" else b
            return ("opt", self.merge(ia, ib, sname, fname))
        if "value" in (a[0], b[0]):
            return ("value",)
        if {a[0], b[0]} == {"tier_limit", "str"} or {a[0], b[0]} == {"tier_limit", "f64"}:
            return ("tier_limit",)
        self.warnings.append("%s.%s: %r vs %r -> serde_json::Value" % (sname, fname, a, b))
        return ("value",)


def rust_type(t):
    k = t[0]
    if k == "str":
        return "String"
    if k in ("f64", "i64", "bool"):
        return k
    if k == "value":
        return "Value"
    if k == "struct":
        return t[1]
    if k == "one_or_many":
        return "OneOrMany"
    if k == "tier_limit":
        return "TierLimit"
    if k == "opt":
        return "Option<%s>" % rust_type(t[1])
    if k == "vec":
        return "Vec<%s>" % rust_type(t[1])
    if k == "map":
        if t[1] == ("value",):
            return "Map<String, Value>"
        return "BTreeMap<String, %s>" % rust_type(t[1])
    raise ValueError(t)


def clean_doc(text: str) -> str:
    text = " ".join(text.split())
    # First sentence (or two when the first is very short).
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    first = m.group(1) if m else text
    if len(first) < 25 and m and len(text) > len(first):
        m2 = re.match(r"(.+?[.!?])(\s|$)", text[len(first):].strip())
        if m2:
            first = first + " " + m2.group(1)
    if not first.endswith((".", "!", "?")):
        first += "."
    first = first.replace("[", "\\[").replace("]", "\\]")
    first = first.replace("<", "&lt;").replace(">", "&gt;")
    first = re.sub(r"(https?://[^\s)]+)", r"<\1>", first)
    return first


def all_required_nullable(st, f):
    """Listed as required wherever the struct appears (and nullable somewhere)."""
    return f.listed == st.visits


def field_ident(name):
    return "r#" + name if name in RUST_KEYWORDS else name


def render(g: Gen) -> str:
    out = []
    w = out.append
    w("// @generated by tools/gen_models.py from the Autumn API spec; do not edit by hand.")
    w("// Regenerate with `python3 tools/gen_models.py`.")
    w("")
    w("use std::collections::BTreeMap;")
    w("")
    w("use serde::{Deserialize, Serialize};")
    w("use serde_json::{Map, Value};")
    w("")
    w("use super::{OneOrMany, TierLimit, UnknownFields};")
    w("")
    for st in g.structs.values():
        doc = STRUCT_DOCS.get(st.name)
        if doc is None and st.name in PARAM_DOCS:
            ops = PARAM_DOCS[st.name]
            doc = "Parameters of %s." % " and ".join("`%s`" % o for o in ops)
        if doc is None:
            doc = clean_doc(st.doc) if st.doc else "Part of %s." % st.paths[0].split(" ")[1].rsplit("/", 1)[1]
        w("/// %s" % doc)
        w("#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]")
        w("pub struct %s {" % st.name)
        required = []
        optional = []
        for f in st.fields.values():
            is_req = f.present == st.visits and f.required == st.visits and not f.nullable
            ty = rust_type(f.ty)
            fdoc = clean_doc(f.doc) if f.doc else FIELD_DOCS.get(f.name)
            if fdoc is None:
                g.warnings.append("no doc for %s.%s" % (st.name, f.name))
                fdoc = "`%s`." % f.name
            if f.enum:
                fdoc += " Known values: %s (others may appear)." % ", ".join("`%s`" % v for v in f.enum)
            if f.default is not None and not isinstance(f.default, (list, dict)):
                fdoc += " Autumn's default: `%s`." % json.dumps(f.default)
            w("    /// %s" % fdoc)
            ident = field_ident(f.name)
            if is_req:
                if f.ty[0] in ("vec", "map"):
                    w("    #[serde(default)]")
                w("    pub %s: %s," % (ident, ty))
                required.append((f, ty))
            elif f.present == st.visits and f.nullable and all_required_nullable(st, f):
                # Required but nullable: always written, `null` when `None`.
                w("    #[serde(default)]")
                w("    pub %s: Option<%s>," % (ident, ty))
                optional.append((f, ty))
            else:
                w('    #[serde(default, skip_serializing_if = "Option::is_none")]')
                w("    pub %s: Option<%s>," % (ident, ty))
                optional.append((f, ty))
        for (name, ty, attr, doc) in RUST_ONLY_FIELDS.get(st.name, []):
            w("    /// %s" % doc)
            w("    %s" % attr)
            w("    pub %s: %s," % (name, ty))
        w("    /// Fields this crate does not name: kept from answers, sent as-is in requests.")
        w("    #[serde(flatten)]")
        w("    pub extra: Map<String, Value>,")
        w("}")
        w("")
        nested = [f for f in st.fields.values() if has_struct(f.ty)]
        w("impl UnknownFields for %s {" % st.name)
        w("    fn visit_unknown(&self, path: &mut String, out: &mut Vec<String>) {")
        if nested:
            w("        let len = path.len();")
        for f in nested:
            ident = field_ident(f.name)
            w('        path.push_str(".%s");' % f.name)
            w("        self.%s.visit_unknown(path, out);" % ident)
            w("        path.truncate(len);")
        w("        out.extend(self.extra.keys().map(|k| format!(\"{path}.{k}\")));")
        w("    }")
        w("}")
        w("")
        if "req" in st.sides:
            w("impl %s {" % st.name)
            if st.name not in CUSTOM_NEW and len(required) <= 5:
                args = []
                inits = []
                # The customer (then the entity) first, as in every `new` of the crate.
                first = {"customer_id": 0, "entity_id": 1}
                for f, ty in sorted(required, key=lambda r: first.get(r[0].name, 2)):
                    ident = field_ident(f.name)
                    a, conv = setter_arg(ty)
                    args.append("%s: %s" % (ident, a))
                    value = conv % ident
                    inits.append("%s," % ident if value == ident else "%s: %s," % (ident, value))
                w("    /// A value with the required fields set and every optional one unset.")
                w("    pub fn new(%s) -> Self {" % ", ".join(args))
                w("        %s {" % st.name)
                for i in inits:
                    w("            " + i)
                w("            ..Default::default()")
                w("        }")
                w("    }")
            for f, ty in optional:
                ident = field_ident(f.name)
                a, conv = setter_arg(ty)
                w("")
                w("    /// Sets `%s`." % f.name)
                if f.name in ("add", "sub", "mul", "div", "neg", "not", "default", "hash", "next"):
                    w("    #[allow(clippy::should_implement_trait)]")
                w("    pub fn %s(mut self, value: %s) -> Self {" % (ident, a))
                w("        self.%s = Some(%s);" % (ident, conv % "value"))
                w("        self")
                w("    }")
            w("}")
            w("")
    return "\n".join(out)


def has_struct(t):
    if t[0] == "struct":
        return True
    if t[0] in ("vec", "map", "opt"):
        return has_struct(t[1])
    return False


def setter_arg(ty):
    if ty == "String":
        return "impl Into<String>", "%s.into()"
    if ty == "Vec<String>":
        return "impl IntoIterator<Item = impl Into<String>>", "%s.into_iter().map(Into::into).collect()"
    if ty == "OneOrMany":
        return "impl Into<OneOrMany>", "%s.into()"
    if ty == "TierLimit":
        return "impl Into<TierLimit>", "%s.into()"
    return ty, "%s"


def main():
    args = sys.argv[1:]
    names = "--names" in args
    check = "--check" in args
    args = [a for a in args if a not in ("--names", "--check")]
    spec_path = args[0] if args else DEFAULT_SPEC
    with open(spec_path, encoding="utf-8") as f:
        spec = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    from gen_ops import TYPES, operations

    order = {p: i for i, p in enumerate(TYPES)}
    ops = sorted(operations(spec), key=lambda o: order.get(o.path, len(order)))
    OPS[:] = [(o.path, o.params, o.answer) for o in ops]
    for _op, _req, _resp in OPS:
        PARAM_DOCS.setdefault(_req, []).append(_op.rsplit("/", 1)[1])
    g = Gen(spec)
    for path, req, resp in OPS:
        op = spec["paths"][path]["post"]
        rb = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if rb is None:
            rb = {"type": "object", "properties": {}}
        rb = g.resolve(rb)
        if rb.get("type") == "array":
            g.conv(rb["items"], "req", path, "[]", req)
        else:
            g.conv(rb, "req", path, "", req)
        responses = op["responses"]
        code = "200" if "200" in responses else "202"
        rp = responses[code]["content"]["application/json"]["schema"]
        g.conv(rp, "resp", path, "", resp)
    text = rustfmt(render(g) + "\n")
    if check:
        with open(OUT, encoding="utf-8") as f:
            current = f.read()
        if current != text:
            print("%s is out of date: run python3 tools/gen_models.py" % OUT, file=sys.stderr)
            sys.exit(1)
        print("%s is up to date" % OUT, file=sys.stderr)
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    for wmsg in g.warnings:
        print("warning:", wmsg, file=sys.stderr)
    if names:
        for st in g.structs.values():
            print(st.name, st.visits, sorted(st.sides), st.paths[:3])
    print("wrote %s: %d structs" % (OUT, len(g.structs)), file=sys.stderr)


if __name__ == "__main__":
    main()
