// The differential cases. Each case is either a call through autumn-js's client
// (`route` + optional `params`) or a raw HTTP request (`raw`), with:
//   identity  who the demo identify rule sees: {id, name, email} headers, or null (anonymous)
//   headers   extra request headers
//   upstream  faults to script on the fake Autumn API: { "<path or *>": <Fault> }
// Names are unique; tests/js/allowlist.json refers to them.

const ada = { id: "cus_ada", name: "Ada Lovelace", email: "ada@example.com" };
const bare = { id: "cus_bare" };
const anonymous = null;

const spoof = {
  customerId: "cus_attacker",
  customer_id: "cus_attacker",
  customerData: { name: "Mallory", email: "mallory@example.com" },
  name: "Mallory",
  email: "mallory@example.com",
  stripeId: "cus_stripe_attacker",
};

const upstreamError = (status, body) => ({ "*": { kind: "status", status, body } });

const planItem = {
  featureId: "messages",
  included: 100,
  unlimited: false,
  reset: { interval: "month" },
  price: {
    amount: 0.5,
    tiers: [
      { to: 1000, amount: 0.5, flatAmount: 10 },
      { to: "inf", amount: 0.25 },
    ],
    tierBehavior: "graduated",
    interval: "month",
    billingMethod: "usage_based",
    maxPurchase: 5000,
  },
  rollover: { max: 50, expiryDurationType: "month", expiryDurationLength: 1 },
};

const checkoutSessionParams = {
  allow_promotion_codes: true,
  customerUpdate: { address: "auto" },
  "metadata[ref]": "x",
};

const client = (name, route, identity, params, extra = {}) => ({
  name,
  route,
  identity,
  ...(params === undefined ? {} : { params }),
  ...extra,
});

const raw = (name, method, path, { body, headers, identity = ada, upstream, compareHeaders } = {}) => ({
  name,
  identity,
  raw: { method, path, body, headers, compareHeaders },
  ...(upstream ? { upstream } : {}),
});

const json = { "content-type": "application/json" };

export const cases = [
  // getOrCreateCustomer ---------------------------------------------------------------------------
  client("getOrCreateCustomer: identified with name and email", "getOrCreateCustomer", ada, {}),
  client("getOrCreateCustomer: identified, no customer data", "getOrCreateCustomer", bare, {}),
  client("getOrCreateCustomer: no params at all", "getOrCreateCustomer", ada),
  client("getOrCreateCustomer: name without email", "getOrCreateCustomer", { id: "cus_named", name: "Grace" }, {}),
  client("getOrCreateCustomer: expand invoices and entities", "getOrCreateCustomer", ada, {
    expand: ["invoices", "entities"],
  }),
  client("getOrCreateCustomer: expand already has balances.feature", "getOrCreateCustomer", ada, {
    expand: ["balances.feature"],
  }),
  client("getOrCreateCustomer: expand that is not an array", "getOrCreateCustomer", ada, {
    expand: "invoices",
  }),
  client("getOrCreateCustomer: protected fields spoofed", "getOrCreateCustomer", ada, {
    ...spoof,
    metadata: { plan: "enterprise" },
    fingerprint: "device-1",
  }),
  client("getOrCreateCustomer: errorOnNotFound false, identified", "getOrCreateCustomer", ada, {
    errorOnNotFound: false,
  }),
  client("getOrCreateCustomer: anonymous", "getOrCreateCustomer", anonymous, {}),
  client("getOrCreateCustomer: anonymous, errorOnNotFound false", "getOrCreateCustomer", anonymous, {
    errorOnNotFound: false,
  }),
  client("getOrCreateCustomer: anonymous, errorOnNotFound \"false\" (a string)", "getOrCreateCustomer", anonymous, {
    errorOnNotFound: "false",
  }),
  client("getOrCreateCustomer: empty customer id is anonymous", "getOrCreateCustomer", { id: "" }, {}),
  client("getOrCreateCustomer: billing controls and config", "getOrCreateCustomer", ada, {
    billingControls: {
      autoTopups: [{ featureId: "credits", threshold: 10, quantity: 100, purchaseLimit: { interval: "month", limit: 3 } }],
      spendLimits: [{ featureId: "messages", overageLimit: 50, limitType: "absolute" }],
      usageLimits: [{ featureId: "messages", limit: 1000, interval: "month", filter: { properties: { modelName: "gpt", tier_level: 2 } } }],
      usageAlerts: [{ featureId: "messages", threshold: 80, thresholdType: "usage_percentage", name: "eighty" }],
      overageAllowed: [{ featureId: "messages" }],
    },
    config: { disablePooledBalance: true, disableOverageBilling: false },
  }),
  client("getOrCreateCustomer: creation options", "getOrCreateCustomer", ada, {
    fingerprint: "device-42",
    createInStripe: true,
    autoEnablePlanId: "free",
    sendEmailReceipts: true,
    currency: "eur",
  }),
  client("getOrCreateCustomer: unknown and snake_case keys", "getOrCreateCustomer", ada, {
    somethingElse: 1,
    auto_enable_plan_id: "free",
    create_in_stripe: true,
  }),
  client("getOrCreateCustomer: browser cookie is not forwarded", "getOrCreateCustomer", ada, {}, {
    headers: { cookie: "session=secret", authorization: "Bearer user-token" },
  }),
  client("getOrCreateCustomer: upstream 404", "getOrCreateCustomer", ada, {}, {
    upstream: upstreamError(404, { message: "Customer cus_ada not found", code: "customer_not_found", env: "sandbox" }),
  }),
  client("getOrCreateCustomer: upstream 500 with extra fields", "getOrCreateCustomer", ada, {}, {
    upstream: upstreamError(500, { message: "Internal error", code: "internal_error", stack: "at x", details: { a: 1 } }),
  }),
  client("getOrCreateCustomer: upstream error without code", "getOrCreateCustomer", ada, {}, {
    upstream: upstreamError(400, { message: "Bad things" }),
  }),
  client("getOrCreateCustomer: upstream 429", "getOrCreateCustomer", ada, {}, {
    upstream: upstreamError(429, { message: "Too many requests", code: "rate_limited" }),
  }),

  // getEntity ----------------------------------------------------------------------------------
  client("getEntity: by id", "getEntity", ada, { entityId: "seat_1" }),
  client("getEntity: anonymous", "getEntity", anonymous, { entityId: "seat_1" }),
  client("getEntity: missing entityId", "getEntity", ada, {}),
  client("getEntity: protected fields spoofed", "getEntity", ada, { entityId: "seat_2", ...spoof }),
  client("getEntity: upstream 404", "getEntity", ada, { entityId: "nope" }, {
    upstream: upstreamError(404, { message: "Entity nope not found", code: "entity_not_found" }),
  }),

  // attach -------------------------------------------------------------------------------------
  client("attach: plan id only", "attach", ada, { planId: "pro" }),
  client("attach: quantities, success URL, user-keyed maps", "attach", ada, {
    planId: "pro",
    featureQuantities: [{ featureId: "seats", quantity: 5, adjustable: true }],
    successUrl: "https://app.example.com/billing?ok=1",
    checkoutSessionParams,
    metadata: { orderRef: "A-1", order_ref: "a-1", "Mixed.Key": "kept" },
  }),
  client("attach: customized plan items, price and free trial", "attach", ada, {
    planId: "pro",
    customize: {
      price: { amount: 20, interval: "month" },
      items: [planItem],
      freeTrial: { durationLength: 14 },
    },
  }),
  client("attach: invoice mode defaults", "attach", ada, {
    planId: "pro",
    invoiceMode: { enabled: true, netTermsDays: 30 },
  }),
  client("attach: redirect mode always, entity and version", "attach", ada, {
    planId: "pro",
    redirectMode: "always",
    entityId: "seat_1",
    version: 2,
  }),
  client("attach: discounts, custom line items, carry-overs", "attach", ada, {
    planId: "pro",
    discounts: [{ rewardId: "launch" }, { promotionCode: "SPRING" }],
    customLineItems: [{ amount: 500, description: "Setup fee" }],
    carryOverBalances: { enabled: true, featureIds: ["credits"] },
    prorationBehavior: "prorate_immediately",
  }),
  client("attach: protected fields spoofed", "attach", ada, { planId: "pro", ...spoof }),
  client("attach: anonymous", "attach", anonymous, { planId: "pro" }),
  client("attach: plan id is a number", "attach", ada, { planId: 42 }),
  client("attach: fractional integer field", "attach", ada, { planId: "pro", startsAt: 1.5 }),
  client("attach: missing plan id", "attach", ada, {}),
  client("attach: upstream 402 payment required", "attach", ada, { planId: "pro" }, {
    upstream: upstreamError(402, { message: "No payment method", code: "payment_method_required" }),
  }),
  client("attach: upstream 200 that is not JSON", "attach", ada, { planId: "pro" }, {
    upstream: { "*": { kind: "raw", status: 200, body: "<html>gateway</html>" } },
  }),
  client("attach: upstream 200 JSON that fails its schema", "attach", ada, { planId: "pro" }, {
    upstream: { "*": { kind: "status", status: 200, body: { surprise: true } } },
  }),
  client("attach: upstream 500 JSON error", "attach", ada, { planId: "pro" }, {
    upstream: upstreamError(500, { message: "Stripe is down", code: "stripe_error" }),
  }),
  client("attach: upstream 503 HTML", "attach", ada, { planId: "pro" }, {
    upstream: { "*": { kind: "raw", status: 503, body: "<html>Service Unavailable</html>" } },
  }),
  client("attach: upstream resets the connection", "attach", ada, { planId: "pro" }, {
    upstream: { "*": { kind: "reset" } },
  }),
  client("attach: upstream resets in the middle of the body", "attach", ada, { planId: "pro" }, {
    upstream: { "*": { kind: "reset_mid_body" } },
  }),
  client("attach: slow upstream within the timeout", "attach", ada, { planId: "pro" }, {
    upstream: { "*": { kind: "delay", ms: 300 } },
  }),
  // Our upstream timeout is 10 s by default; autumn-js has none (the driver stops waiting after 2 s).
  client("attach: upstream slower than our timeout", "attach", ada, { planId: "pro" }, {
    upstream: { "*": { kind: "delay", ms: 12000 } },
    referenceGivesUpAfterMs: 2000,
  }),

  // previewAttach ------------------------------------------------------------------------------
  client("previewAttach: plan id", "previewAttach", ada, { planId: "pro" }),
  client("previewAttach: customized with free trial", "previewAttach", ada, {
    planId: "pro",
    customize: { freeTrial: { durationLength: 7, durationType: "day", cardRequired: true }, price: { amount: 9, interval: "month" } },
    featureQuantities: [{ featureId: "seats", quantity: 3 }],
  }),
  client("previewAttach: anonymous", "previewAttach", anonymous, { planId: "pro" }),

  // updateSubscription -------------------------------------------------------------------------
  client("updateSubscription: cancel at end of cycle", "updateSubscription", ada, {
    planId: "pro",
    cancelAction: "cancel_end_of_cycle",
  }),
  client("updateSubscription: feature quantities", "updateSubscription", ada, {
    planId: "pro",
    featureQuantities: [{ featureId: "seats", quantity: 10 }],
    subscriptionParams: { prorationDate: 1, payment_behavior: "allow_incomplete" },
  }),
  client("updateSubscription: upstream 400", "updateSubscription", ada, { planId: "pro" }, {
    upstream: upstreamError(400, { message: "Plan pro is not attached", code: "plan_not_attached" }),
  }),

  // previewUpdateSubscription ------------------------------------------------------------------
  client("previewUpdateSubscription: plan id", "previewUpdateSubscription", ada, { planId: "pro" }),
  client("previewUpdateSubscription: invoice mode", "previewUpdateSubscription", ada, {
    planId: "pro",
    invoiceMode: { enabled: true },
  }),

  // multiAttach --------------------------------------------------------------------------------
  client("multiAttach: two plans", "multiAttach", ada, {
    plans: [
      { planId: "pro", featureQuantities: [{ featureId: "seats", quantity: 2 }] },
      { planId: "addon", customize: { items: [planItem] } },
    ],
  }),
  client("multiAttach: free trial, success URL, checkout params", "multiAttach", ada, {
    plans: [{ planId: "pro" }],
    freeTrial: { durationLength: 30 },
    successUrl: "https://app.example.com/done",
    checkoutSessionParams,
  }),
  client("multiAttach: missing plans", "multiAttach", ada, {}),
  client("multiAttach: protected fields spoofed", "multiAttach", ada, { plans: [{ planId: "pro" }], ...spoof }),

  // previewMultiAttach -------------------------------------------------------------------------
  client("previewMultiAttach: two plans", "previewMultiAttach", ada, {
    plans: [{ planId: "pro" }, { planId: "addon", version: 3 }],
  }),

  // setupPayment -------------------------------------------------------------------------------
  client("setupPayment: no params", "setupPayment", ada, {}),
  client("setupPayment: plan, success URL, checkout params", "setupPayment", ada, {
    planId: "pro",
    successUrl: "https://app.example.com/after",
    checkoutSessionParams,
  }),
  client("setupPayment: anonymous", "setupPayment", anonymous, {}),

  // openCustomerPortal -------------------------------------------------------------------------
  client("openCustomerPortal: return URL", "openCustomerPortal", ada, { returnUrl: "https://app.example.com/account" }),
  client("openCustomerPortal: configuration id", "openCustomerPortal", ada, { configurationId: "bpc_1" }),
  client("openCustomerPortal: anonymous", "openCustomerPortal", anonymous, {}),

  // referrals ----------------------------------------------------------------------------------
  client("createReferralCode: program id", "createReferralCode", ada, { programId: "friends" }),
  client("createReferralCode: missing program id", "createReferralCode", ada, {}),
  client("redeemReferralCode: code", "redeemReferralCode", ada, { code: "ADA-123" }),
  client("redeemReferralCode: upstream 404", "redeemReferralCode", ada, { code: "NOPE" }, {
    upstream: upstreamError(404, { message: "Referral code not found", code: "referral_code_not_found" }),
  }),
  client("redeemReferralCode: anonymous", "redeemReferralCode", anonymous, { code: "ADA-123" }),

  // listPlans ----------------------------------------------------------------------------------
  client("listPlans: identified", "listPlans", ada, {}),
  client("listPlans: no params", "listPlans", ada),
  client("listPlans: anonymous", "listPlans", anonymous, {}),
  client("listPlans: anonymous with a spoofed customer id", "listPlans", anonymous, { customerId: "cus_attacker" }),
  client("listPlans: options", "listPlans", ada, { entityId: "seat_1", includeArchived: true, allVersions: true }),

  // listEvents ---------------------------------------------------------------------------------
  client("listEvents: defaults", "listEvents", ada, {}),
  client("listEvents: filters and custom range", "listEvents", ada, {
    featureId: "messages",
    limit: 10,
    startCursor: "cur_1",
    customRange: { start: 1767225600000, end: 1769904000000 },
  }),
  client("listEvents: fractional limit", "listEvents", ada, { limit: 2.5 }),
  client("listEvents: anonymous", "listEvents", anonymous, {}),

  // aggregateEvents ----------------------------------------------------------------------------
  client("aggregateEvents: feature and range", "aggregateEvents", ada, { featureId: "messages", range: "30d" }),
  client("aggregateEvents: grouping and user-keyed filter", "aggregateEvents", ada, {
    featureId: "messages",
    groupBy: "properties.modelName",
    binSize: "hour",
    customRange: { start: 1767225600000, end: 1767312000000 },
    filterBy: { modelName: "gpt", "properties.tier_level": "2" },
    maxGroups: 5,
  }),
  client("aggregateEvents: missing feature id", "aggregateEvents", ada, {}),
  client("aggregateEvents: anonymous", "aggregateEvents", anonymous, { featureId: "messages" }),

  // raw HTTP: what the client cannot express ---------------------------------------------------
  raw("raw: GET on a known route", "GET", "/api/autumn/attach", { compareHeaders: ["allow"] }),
  raw("raw: PUT on a known route", "PUT", "/api/autumn/listPlans", { body: "{}", headers: json }),
  raw("raw: OPTIONS on a known route", "OPTIONS", "/api/autumn/attach"),
  raw("raw: unknown route", "POST", "/api/autumn/deleteCustomer", { body: "{}", headers: json }),
  raw("raw: GET on an unknown route", "GET", "/api/autumn/nothing"),
  raw("raw: wrong case", "POST", "/api/autumn/Attach", { body: '{"planId":"pro"}', headers: json }),
  raw("raw: extra path segment", "POST", "/api/autumn/attach/extra", { body: '{"planId":"pro"}', headers: json }),
  raw("raw: the prefix alone", "POST", "/api/autumn", { body: "{}", headers: json }),
  raw("raw: trailing slash", "POST", "/api/autumn/listPlans/", { body: "{}", headers: json }),
  raw("raw: query string is ignored", "POST", "/api/autumn/listPlans?customerId=cus_attacker&x=1", { body: "{}", headers: json }),
  raw("raw: malformed JSON", "POST", "/api/autumn/attach", { body: '{"planId": "pro"', headers: json }),
  raw("raw: JSON array body", "POST", "/api/autumn/attach", { body: '[{"planId":"pro"}]', headers: json }),
  raw("raw: JSON string body", "POST", "/api/autumn/listPlans", { body: '"hello"', headers: json }),
  raw("raw: empty body on attach", "POST", "/api/autumn/attach", { body: "", headers: json }),
  raw("raw: empty body on listPlans", "POST", "/api/autumn/listPlans", { body: "" }),
  raw("raw: empty body on getOrCreateCustomer", "POST", "/api/autumn/getOrCreateCustomer", { body: "" }),
  raw("raw: JSON sent as text/plain", "POST", "/api/autumn/attach", {
    body: '{"planId":"pro"}',
    headers: { "content-type": "text/plain" },
  }),
  raw("raw: null JSON body on listPlans", "POST", "/api/autumn/listPlans", { body: "null", headers: json }),
  raw("raw: anonymous POST with no body", "POST", "/api/autumn/attach", { identity: anonymous }),
];
