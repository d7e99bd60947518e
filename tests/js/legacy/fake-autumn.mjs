// A fake Autumn API v1.2 on loopback, for the legacy differential suite.
//
// It records every request (method, raw path, raw query, headers, raw and parsed body) and answers
// each v1.2 path the legacy routes call with a fixed, realistic JSON body. Answers depend only on
// the request (ids and feature ids are echoed back), never on time or randomness, so two servers
// that send the same request get byte-identical answers.
//
// Control API (not recorded):
//   GET  /__fake/requests  the recorded requests, oldest first
//   POST /__fake/reset     forget the requests and the scripted faults
//   POST /__fake/script    {"path": "/v1/attach" or "*", "fault": {"kind": "status", "status": 402,
//                          "body": {...}} | {"kind": "raw", "status": 502, "body": "<html>",
//                          "contentType": "text/html"}}: answer that instead, until the next reset
//
// Each recorded request also lists `violations`: what no Autumn client should send (a missing or
// wrong bearer key, a missing `x-api-version: 1.2`, a POST body that is not JSON).
//
// Environment: AUTUMN_SECRET_KEY (the key every request must carry), HOST, PORT (default
// 127.0.0.1:0). Prints `fake autumn listening on http://HOST:PORT` once it listens.

import http from "node:http";

const secret = process.env.AUTUMN_SECRET_KEY;
if (!secret) {
  process.stderr.write("fake-autumn: AUTUMN_SECRET_KEY is required\n");
  process.exit(2);
}

let recorded = [];
let scripts = new Map();

const CREATED_AT = 1762971906762;

const product = (id, name, amount) => ({
  id,
  name,
  group: null,
  env: "sandbox",
  is_add_on: false,
  is_default: amount === 0,
  version: 1,
  created_at: CREATED_AT,
  items: [
    {
      type: "priced_feature",
      feature_id: "messages",
      feature_type: "single_use",
      included_usage: amount === 0 ? 50 : 1000,
      interval: "month",
      price: amount === 0 ? null : 0.01,
      usage_model: "pay_per_use",
      display: { primary_text: "1,000 messages", secondary_text: "then $0.01 per message" },
    },
    ...(amount === 0 ? [] : [{ type: "price", price: amount, interval: "month", display: { primary_text: `$${amount}` } }]),
  ],
  free_trial: null,
  properties: { is_free: amount === 0, interval_group: "month", has_trial: false, updateable: false },
});

const customerRecord = (id, body) => ({
  id,
  created_at: CREATED_AT,
  name: body?.name ?? null,
  email: body?.email ?? null,
  fingerprint: body?.fingerprint ?? null,
  stripe_id: "cus_Stripe123",
  env: "sandbox",
  metadata: body?.metadata ?? {},
  products: [
    {
      id: "pro",
      name: "Pro",
      group: null,
      status: "active",
      canceled_at: null,
      started_at: CREATED_AT,
      is_default: false,
      is_add_on: false,
      version: 1,
      current_period_start: CREATED_AT,
      current_period_end: CREATED_AT + 2_592_000_000,
      items: [],
    },
  ],
  features: {
    messages: {
      id: "messages",
      type: "single_use",
      name: "Messages",
      interval: "month",
      unlimited: false,
      balance: 850,
      usage: 150,
      included_usage: 1000,
      next_reset_at: CREATED_AT + 2_592_000_000,
      overage_allowed: false,
    },
  },
});

const entity = (customerId, id, expand) => ({
  id,
  name: `Seat ${id}`,
  customer_id: customerId,
  feature_id: "seats",
  created_at: CREATED_AT,
  env: "sandbox",
  products: [],
  features: { messages: { id: "messages", balance: 10, usage: 0, included_usage: 10 } },
  ...(expand?.includes("invoices") ? { invoices: [{ stripe_id: "in_1", status: "paid", total: 20, currency: "usd" }] } : {}),
});

const url = (kind, id) => `https://checkout.stripe.com/c/pay/${kind}_${encodeURIComponent(id ?? "none")}`;

/** The normal answer to a request: `[status, body]`. */
const answer = (method, segments, query, body) => {
  const b = body && typeof body === "object" && !Array.isArray(body) ? body : {};
  const route = `${method} /${segments.join("/")}`;
  switch (route) {
    case "POST /v1/attach":
      return [200, {
        success: true,
        code: "new_product_attached",
        message: `Successfully attached product ${b.product_id ?? "(none)"}`,
        customer_id: b.customer_id,
        product_ids: b.product_ids ?? [b.product_id],
        checkout_url: b.force_checkout ? url("cs_attach", b.customer_id) : undefined,
      }];
    case "POST /v1/checkout":
      return [200, {
        customer_id: b.customer_id,
        url: url("cs_checkout", b.customer_id),
        has_prorations: false,
        total: 20,
        currency: "usd",
        lines: [{ description: "Pro - $20 / month", amount: 20, item: null }],
        product: product(b.product_id ?? "pro", "Pro", 20),
        options: b.options ?? [],
        next_cycle: { starts_at: CREATED_AT + 2_592_000_000, total: 20 },
      }];
    case "POST /v1/setup_payment":
      return [200, { customer_id: b.customer_id, url: url("cs_setup", b.customer_id) }];
    case "POST /v1/cancel":
      return [200, { success: true, customer_id: b.customer_id, product_id: b.product_id ?? null }];
    case "POST /v1/check":
      return [200, {
        allowed: true,
        code: "feature_found",
        customer_id: b.customer_id,
        feature_id: b.feature_id ?? null,
        entity_id: b.entity_id ?? null,
        required_balance: b.required_balance ?? 1,
        interval: "month",
        interval_count: 1,
        unlimited: false,
        balance: 850,
        usage: 150,
        included_usage: 1000,
        next_reset_at: CREATED_AT + 2_592_000_000,
        overage_allowed: false,
        ...(b.with_preview ? { preview: { scenario: "usage_limit", title: "Out of messages", products: [] } } : {}),
      }];
    case "POST /v1/track":
      return [200, {
        id: "evt_2w5dzidzFD1cESxOGnn9frVuVcm",
        code: "event_received",
        customer_id: b.customer_id,
        feature_id: b.feature_id,
        event_name: b.event_name,
      }];
    case "POST /v1/query":
      return [200, {
        list: [
          { period: CREATED_AT, [Array.isArray(b.feature_id) ? b.feature_id[0] : b.feature_id ?? "messages"]: 3 },
        ],
      }];
    case "POST /v1/customers": {
      const expand = new URLSearchParams(query ?? "").get("expand")?.split(",") ?? [];
      return [200, {
        ...customerRecord(b.id, b),
        ...(expand.includes("invoices") ? { invoices: [] } : {}),
        ...(expand.includes("entities") ? { entities: [] } : {}),
      }];
    }
    case "GET /v1/products_beta": {
      const customer = new URLSearchParams(query ?? "").get("customer_id");
      return [200, {
        list: [product("free", "Free", 0), product("pro", "Pro", 20)].map((p) => ({
          ...p,
          scenario: customer ? (p.id === "pro" ? "active" : "downgrade") : "new",
        })),
      }];
    }
    case "GET /v1/components/pricing_table": {
      const customer = new URLSearchParams(query ?? "").get("customer_id");
      return [200, {
        list: [
          { id: "free", name: "Free", button_text: customer ? "Downgrade" : "Get started", items: [{ primary_text: "50 messages" }] },
          { id: "pro", name: "Pro", button_text: customer ? "Current plan" : "Subscribe", items: [{ primary_text: "$20 per month" }] },
        ],
      }];
    }
    case "POST /v1/referrals/code":
      return [200, { code: "REF123ABC", customer_id: b.customer_id, created_at: CREATED_AT }];
    case "POST /v1/referrals/redeem":
      return [200, { id: "red_123", customer_id: b.customer_id, reward_id: "reward_789" }];
    case "POST /v1/events/list":
      return [200, {
        list: [
          { id: "evt_1", timestamp: CREATED_AT, feature_id: b.feature_id ?? "messages", customer_id: b.customer_id, value: 1, properties: {} },
        ],
        has_more: false,
        offset: b.offset ?? 0,
        limit: b.limit ?? 100,
        total: 1,
      }];
    case "POST /v1/events/aggregate":
      return [200, {
        list: [{ period: CREATED_AT, values: { [b.feature_id ?? "messages"]: 4 } }],
        total: { [b.feature_id ?? "messages"]: { count: 2, sum: 4 } },
      }];
  }
  // Routes with ids in the path.
  const [v1, customers, customerId, sub, entityId, ...rest] = segments;
  if (v1 === "v1" && customers === "customers" && customerId !== undefined && rest.length === 0) {
    const id = decodeURIComponent(customerId);
    if (method === "POST" && sub === "billing_portal" && entityId === undefined) {
      return [200, { customer_id: id, url: url("bps", id) }];
    }
    if (method === "POST" && sub === "entities" && entityId === undefined) {
      const list = Array.isArray(body) ? body : [body ?? {}];
      return [200, { success: true, list: list.map((e) => entity(id, e?.id ?? null)) }];
    }
    if (method === "GET" && sub === "entities" && entityId !== undefined) {
      const expand = new URLSearchParams(query ?? "").get("expand")?.split(",");
      return [200, entity(id, decodeURIComponent(entityId), expand)];
    }
    if (method === "DELETE" && sub === "entities" && entityId !== undefined) {
      return [200, { success: true }];
    }
  }
  return [404, { message: `No route ${method} ${segments.join("/")}`, code: "not_found" }];
};

const violationsOf = (method, headers, rawBody, body) => {
  const found = [];
  if (headers.authorization !== `Bearer ${secret}`) found.push("authorization is not `Bearer <secret key>`");
  if (headers["x-api-version"] !== "1.2") found.push(`x-api-version is ${JSON.stringify(headers["x-api-version"])}, not "1.2"`);
  if (method === "POST") {
    if (!(headers["content-type"] ?? "").startsWith("application/json")) found.push("a POST without content-type application/json");
    if (body === undefined) found.push(`a POST body that is not JSON: ${JSON.stringify(rawBody.slice(0, 200))}`);
  }
  return found;
};

const send = (res, status, value) => {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
};

const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const rawBody = Buffer.concat(chunks).toString("utf8");
  const target = req.url ?? "/";
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? null : target.slice(q + 1);

  if (path.startsWith("/__fake/")) {
    const what = path.slice("/__fake/".length);
    if (req.method === "GET" && what === "requests") return send(res, 200, recorded);
    if (req.method === "POST" && what === "reset") {
      recorded = [];
      scripts = new Map();
      return send(res, 200, { ok: true });
    }
    if (req.method === "POST" && what === "script") {
      const { path: scripted, fault } = JSON.parse(rawBody);
      scripts.set(scripted, fault);
      return send(res, 200, { ok: true });
    }
    return send(res, 404, { message: `unknown control ${req.method} ${what}` });
  }

  let body;
  if (rawBody === "") body = null;
  else {
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
  }
  const headerList = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headerList.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
  }
  recorded.push({
    method: req.method,
    path,
    query,
    headers: headerList,
    rawBody,
    body: body === undefined ? null : body,
    violations: violationsOf(req.method, req.headers, rawBody, body),
  });

  const fault = scripts.get(path) ?? scripts.get("*");
  if (fault?.kind === "status") return send(res, fault.status, fault.body);
  if (fault?.kind === "raw") {
    res.writeHead(fault.status, { "content-type": fault.contentType ?? "text/html" });
    return res.end(fault.body);
  }
  if (fault) return send(res, 500, { message: `fake: unknown fault kind ${fault.kind}`, code: "fake_error" });
  const [status, value] = answer(req.method, path.split("/").filter(Boolean), query, body ?? null);
  return send(res, status, value);
});

server.keepAliveTimeout = 1000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  const { address, port } = server.address();
  process.stdout.write(`fake autumn listening on http://${address}:${port}\n`);
});
