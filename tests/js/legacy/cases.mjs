// The legacy differential cases. Every case is one raw HTTP request, sent as it is to both servers:
//
//   call      [method, ...args] of autumn-js 0.1.85's React `AutumnClient` (e.g. ["entities.get",
//             "seat_1", {expand: ["invoices"]}]); the driver runs the real client against a capture
//             server and replays exactly the request it sent (path, query, headers, body bytes)
//   provider  AutumnProvider props for that client: customerData, defaultReturnUrl
//   raw       {method, path, body, headers} for what the client cannot send (bad JSON, wrong
//             methods, unknown routes, trailing slashes, hand-made queries)
//   identity  who the demo identify rule sees: {id, name, email} sent as x-customer-* headers, or
//             null (anonymous)
//   upstream  faults to script on the fake Autumn: { "<path or *>": <fault> }
//
// Any text naming another customer contains "attacker": the driver checks that none of it reaches
// Autumn from our server, on every case. Names are unique; allowlist.json refers to them.

const ada = { id: "cus_ada", name: "Ada Lovelace", email: "ada@example.com" };
const bare = { id: "cus_bare" };
const anonymous = null;

/** What a page sends when it tries to act for someone else, in both spellings. */
const spoof = {
  customerId: "cus_attacker",
  customer_id: "cus_attacker",
  customerData: { name: "Mallory the attacker", email: "attacker@example.com" },
};
/** An AutumnProvider whose customerData prop the page controls. */
const attackerProvider = { customerData: { name: "Mallory the attacker", email: "attacker@example.com" } };

const call = (name, identity, method, args, extra = {}) => ({ name, identity, call: [method, ...args], ...extra });
const raw = (name, identity, method, path, { body, headers, upstream } = {}) => ({
  name,
  identity,
  raw: { method, path, body, headers: headers ?? (body === undefined ? {} : { "content-type": "application/json" }) },
  ...(upstream ? { upstream } : {}),
});
const upstreamError = (path, status, body) => ({ [path]: { kind: "status", status, body } });

export const cases = [
  // cors ----------------------------------------------------------------------------------------
  call("cors: the client's credentials probe", anonymous, "detectCors", []),
  raw("cors: identified, trailing slash", ada, "POST", "/api/autumn/cors/", { body: "{}" }),

  // customers -----------------------------------------------------------------------------------
  call("customers: identified with name and email", ada, "createCustomer", [{}]),
  call("customers: identified, no customer data", bare, "createCustomer", [{}]),
  call("customers: expand and errorOnNotFound", ada, "createCustomer", [{ expand: ["invoices", "entities"], errorOnNotFound: true }]),
  call("customers: empty expand list", ada, "createCustomer", [{ expand: [] }]),
  call("customers: anonymous", anonymous, "createCustomer", [{}]),
  call("customers: anonymous, errorOnNotFound false", anonymous, "createCustomer", [{ errorOnNotFound: false }]),
  call("customers: anonymous, errorOnNotFound \"false\" (a string)", anonymous, "createCustomer", [{ errorOnNotFound: "false" }]),
  call("customers: body names another customer", ada, "createCustomer", [
    { ...spoof, id: "cus_attacker", name: "Mallory the attacker", email: "attacker@example.com", stripeId: "cus_attacker_stripe", fingerprint: "attacker-device", metadata: { owner: "attacker" } },
  ]),
  call("customers: provider customerData", ada, "createCustomer", [{}], { provider: attackerProvider }),

  // attach, checkout, setup_payment -------------------------------------------------------------
  call("attach: product", ada, "attach", [{ productId: "pro" }]),
  call("attach: camelCase, checkoutSessionParams and metadata keep their shape", ada, "attach", [
    {
      productId: "pro",
      successUrl: "https://app.example.com/ok",
      forceCheckout: true,
      reward: "PROMO",
      options: [{ featureId: "seats", quantity: 3 }],
      checkoutSessionParams: { allowPromotionCodes: true, subscriptionData: { trialPeriodDays: 14 }, "metadata[ref]": "x" },
      metadata: { campaignName: "spring" },
    },
  ]),
  call("attach: several products, entity", ada, "attach", [{ productIds: ["pro", "seats_addon"], entityId: "seat_1", entityData: { featureId: "seats", name: "Seat 1" } }]),
  call("attach: defaultReturnUrl of the provider", bare, "attach", [{ productId: "pro" }], { provider: { defaultReturnUrl: "https://app.example.com/back" } }),
  call("attach: body and provider name another customer", ada, "attach", [{ productId: "pro", ...spoof }], { provider: attackerProvider }),
  call("attach: provider customerData, identify gives only an id", bare, "attach", [{ productId: "pro" }], { provider: attackerProvider }),
  call("attach: anonymous", anonymous, "attach", [{ productId: "pro" }]),
  call("attach: anonymous, errorOnNotFound false", anonymous, "attach", [{ productId: "pro", errorOnNotFound: false }]),
  call("checkout: options and checkoutSessionParams", ada, "checkout", [
    { productId: "pro", options: [{ featureId: "seats", quantity: 5 }], checkoutSessionParams: { customerUpdate: { address: "auto" }, allow_promotion_codes: true } },
  ]),
  call("checkout: body names another customer", ada, "checkout", [{ productId: "pro", ...spoof }]),
  call("setup_payment: no params", ada, "setupPayment", []),
  call("setup_payment: successUrl and checkoutSessionParams", ada, "setupPayment", [
    { successUrl: "https://app.example.com/card", checkoutSessionParams: { customText: { submitMessage: "Save card" } } },
  ]),

  // cancel, check, track, query -----------------------------------------------------------------
  call("cancel: immediately, entity", ada, "cancel", [{ productId: "pro", cancelImmediately: true, entityId: "seat_1" }]),
  call("cancel: body names another customer", ada, "cancel", [{ productId: "pro", ...spoof }]),
  call("check: feature with preview (dialog dropped by the client)", ada, "check", [
    { featureId: "messages", requiredBalance: 2, withPreview: true, dialog: () => null },
  ]),
  call("check: product and entity, sendEvent", bare, "check", [{ productId: "pro", entityId: "seat_1", sendEvent: true }]),
  call("check: body names another customer", ada, "check", [{ featureId: "messages", ...spoof }], { provider: attackerProvider }),
  call("track: properties keep their keys", ada, "track", [
    { featureId: "messages", value: 2, idempotencyKey: "msg-42", entityId: "seat_1", properties: { chatId: "c1", modelName: "gpt", nested: { innerKey: 1 } } },
  ]),
  call("track: event name", bare, "track", [{ eventName: "message_sent" }]),
  call("track: body names another customer", ada, "track", [{ featureId: "messages", ...spoof }]),
  call("query: features and range", ada, "query", [{ featureId: ["messages", "seats"], range: "7d" }]),
  call("query: body names another customer", ada, "query", [{ featureId: "messages", ...spoof }]),

  // billing_portal ------------------------------------------------------------------------------
  call("billing_portal: returnUrl", ada, "openBillingPortal", [{ returnUrl: "https://app.example.com/account" }]),
  call("billing_portal: no params", bare, "openBillingPortal", []),
  call("billing_portal: body names another customer", ada, "openBillingPortal", [{ returnUrl: "https://app.example.com/account", ...spoof }]),
  call("billing_portal: an identified id with a slash and a question mark", { id: "org/1?x=y" }, "openBillingPortal", [{}]),
  call("billing_portal: anonymous", anonymous, "openBillingPortal", [{}]),

  // entities ------------------------------------------------------------------------------------
  call("entities: create one", ada, "entities.create", [{ id: "seat_1", name: "Seat 1", featureId: "seats" }]),
  call("entities: create several", ada, "entities.create", [[{ id: "seat_1", featureId: "seats" }, { id: "seat_2", name: null, featureId: "seats" }]]),
  call("entities: create, body names another customer", ada, "entities.create", [{ id: "seat_1", featureId: "seats", ...spoof }]),
  call("entities: create, anonymous", anonymous, "entities.create", [{ id: "seat_1", featureId: "seats" }]),
  call("entities: get with expand", ada, "entities.get", ["seat_1", { expand: ["invoices"] }]),
  call("entities: get without expand", ada, "entities.get", ["seat_1"]),
  call("entities: get, id with a space and an accent", ada, "entities.get", ["seat é 1"]),
  call("entities: get, an id that tries to climb to another customer", ada, "entities.get", ["..%2F..%2Fcus_attacker"]),
  call("entities: get, anonymous", anonymous, "entities.get", ["seat_1"]),
  call("entities: delete", ada, "entities.delete", ["seat_1"]),
  call("entities: delete, anonymous", anonymous, "entities.delete", ["seat_1"]),
  raw("entities: get, trailing slash", ada, "GET", "/api/autumn/entities/seat_1/"),
  raw("entities: get, expand smuggling a customer_id", ada, "GET", "/api/autumn/entities/seat_1?expand=invoices%26customer_id%3Dcus_attacker"),
  raw("entities: get, customer_id in the query", ada, "GET", "/api/autumn/entities/seat_1?customer_id=cus_attacker&expand=invoices"),
  raw("entities: Python SDK path naming another customer", ada, "DELETE", "/api/autumn/customers/cus_attacker/entities/seat_1"),

  // products, pricing table ---------------------------------------------------------------------
  call("products: identified", ada, "products.list", []),
  call("products: an identified id with a space, & and =", { id: "org 1&customer_id=x" }, "products.list", []),
  call("products: anonymous", anonymous, "products.list", []),
  raw("products: customer_id in the query", ada, "GET", "/api/autumn/products?customer_id=cus_attacker"),
  raw("products: trailing slash", bare, "GET", "/api/autumn/products/"),
  raw("pricing_table: identified", ada, "GET", "/api/autumn/components/pricing_table"),
  raw("pricing_table: anonymous", anonymous, "GET", "/api/autumn/components/pricing_table"),
  raw("pricing_table: customer_id in the query", anonymous, "GET", "/api/autumn/components/pricing_table?customer_id=cus_attacker"),

  // referrals -----------------------------------------------------------------------------------
  call("referrals/code: program", ada, "referrals.createCode", [{ programId: "prog_1" }]),
  call("referrals/code: body names another customer", ada, "referrals.createCode", [{ programId: "prog_1", ...spoof }]),
  call("referrals/code: provider customerData", ada, "referrals.createCode", [{ programId: "prog_1" }], { provider: attackerProvider }),
  call("referrals/redeem: code", bare, "referrals.redeemCode", [{ code: "REF123ABC" }]),
  call("referrals/redeem: anonymous", anonymous, "referrals.redeemCode", [{ code: "REF123ABC" }]),

  // events --------------------------------------------------------------------------------------
  call("events/list: custom range and paging", ada, "events.list", [{ featureId: "messages", customRange: { start: 1762000000000, end: 1762900000000 }, limit: 10, offset: 0 }]),
  call("events/list: body names another customer", ada, "events.list", [{ featureId: "messages", ...spoof }]),
  call("events/aggregate: group by a property", ada, "events.aggregate", [{ featureId: "messages", range: "30d", groupBy: "properties.region", binSize: "day" }]),
  call("events/aggregate: anonymous", anonymous, "events.aggregate", [{ featureId: "messages" }]),

  // Bodies, methods, routes ---------------------------------------------------------------------
  raw("raw: trailing slash on a POST route", ada, "POST", "/api/autumn/check/", { body: '{"featureId":"messages"}' }),
  raw("raw: empty body", ada, "POST", "/api/autumn/attach", { body: "" }),
  raw("raw: JSON body without a content type", ada, "POST", "/api/autumn/track", { body: '{"featureId":"messages"}', headers: {} }),
  raw("raw: malformed JSON", ada, "POST", "/api/autumn/attach", { body: '{"productId": "pro",' }),
  raw("raw: malformed JSON, anonymous", anonymous, "POST", "/api/autumn/attach", { body: "{nope" }),
  raw("raw: JSON array body on check", ada, "POST", "/api/autumn/check", { body: '[{"featureId":"messages"}]' }),
  raw("raw: repeated key", ada, "POST", "/api/autumn/check", { body: '{"featureId":"messages","featureId":"seats"}' }),
  raw("raw: null successUrl is dropped", ada, "POST", "/api/autumn/attach", { body: '{"productId":"pro","successUrl":null}' }),
  raw("raw: null returnUrl is dropped", ada, "POST", "/api/autumn/billing_portal", { body: '{"returnUrl":null}' }),
  raw("raw: null expand", ada, "POST", "/api/autumn/customers", { body: '{"expand":null}' }),
  raw("raw: snake_case checkout_session_params is converted", ada, "POST", "/api/autumn/checkout", {
    body: '{"product_id":"pro","checkout_session_params":{"allowPromotionCodes":true},"properties":{"someKey":{"innerKey":1}}}',
  }),
  raw("raw: browser cookie and authorization are not forwarded", ada, "POST", "/api/autumn/track", {
    body: '{"featureId":"messages"}',
    headers: { "content-type": "application/json", cookie: "session=secret", authorization: "Bearer user-token" },
  }),
  raw("raw: anonymous, errorOnNotFound false on check", anonymous, "POST", "/api/autumn/check", { body: '{"featureId":"messages","errorOnNotFound":false}' }),
  raw("raw: anonymous, errorOnNotFound false on a delete (no body is read)", anonymous, "DELETE", "/api/autumn/entities/seat_1"),
  raw("raw: expand that is not a list", ada, "POST", "/api/autumn/customers", { body: '{"expand":"invoices"}' }),
  raw("raw: GET on a POST route", ada, "GET", "/api/autumn/attach"),
  raw("raw: POST on a GET route", ada, "POST", "/api/autumn/products", { body: "{}" }),
  raw("raw: PUT on an entity", ada, "PUT", "/api/autumn/entities/seat_1", { body: "{}" }),
  raw("raw: unknown route", ada, "POST", "/api/autumn/getOrCreateCustomer", { body: "{}" }),
  raw("raw: route in the wrong case", ada, "POST", "/api/autumn/Attach", { body: '{"productId":"pro"}' }),

  // Upstream answers ----------------------------------------------------------------------------
  raw("upstream: 201 keeps its status", ada, "POST", "/api/autumn/attach", {
    body: '{"productId":"pro"}',
    upstream: upstreamError("/v1/attach", 201, { success: true, code: "new_product_attached", customer_id: "cus_ada" }),
  }),
  raw("upstream: a null answer", ada, "POST", "/api/autumn/check", {
    body: '{"featureId":"messages"}',
    upstream: upstreamError("/v1/check", 200, null),
  }),
  call("upstream: 402 passed through", ada, "attach", [{ productId: "pro" }], {
    upstream: upstreamError("/v1/attach", 402, { message: "Payment method required", code: "payment_required", env: "sandbox" }),
  }),
  call("upstream: 404 on an entity", ada, "entities.get", ["seat_9"], {
    upstream: upstreamError("*", 404, { message: "Entity seat_9 not found", code: "entity_not_found" }),
  }),
  call("upstream: 400 without a code", ada, "track", [{ featureId: "messages" }], {
    upstream: upstreamError("/v1/track", 400, { message: "feature_id or event_name is required" }),
  }),
  call("upstream: 500 with a JSON error", ada, "products.list", [], {
    upstream: upstreamError("*", 500, { message: "Internal server error", code: "internal_error" }),
  }),
  call("upstream: 429 on check", ada, "check", [{ featureId: "messages" }], {
    upstream: upstreamError("/v1/check", 429, { message: "Too many requests", code: "rate_limit_exceeded" }),
  }),
  raw("upstream: an error body that is JSON but not an object", ada, "POST", "/api/autumn/events/list", {
    body: '{"featureId":"messages"}',
    upstream: upstreamError("/v1/events/list", 400, "bad request"),
  }),
  raw("upstream: 503 with an HTML page", ada, "POST", "/api/autumn/query", {
    body: '{"featureId":"messages"}',
    upstream: { "*": { kind: "raw", status: 503, body: "<html>Service Unavailable</html>", contentType: "text/html" } },
  }),
  raw("upstream: 200 that is not JSON", ada, "POST", "/api/autumn/cancel", {
    body: '{"productId":"pro"}',
    upstream: { "*": { kind: "raw", status: 200, body: "<html>ok</html>", contentType: "text/html" } },
  }),
];
