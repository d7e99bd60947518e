// The conformance suite's client-side cases against our quickstart on the embedded offline Autumn.
//
// Every case that goes through autumn-js's browser client and scripts no upstream fault runs twice,
// through autumn-js's own client: against our quickstart on the spec-driven fake (which answers every
// valid call with a generated success) and against our quickstart on the offline Autumn (no key).
// The outcome must be the same: a success on the fake must be a success offline (the offline
// Autumn's answer passing autumn-js's client), and a request our service rejects before calling
// Autumn must be rejected the same way. The few cases whose outcome depends on data the offline
// Autumn does not have are listed in `expectedOffline` with the reason and the exact answer.
//
// Before each case the driver puts the identified customer in the state the case needs (an entity to
// read, a plan to cancel) through the offline Autumn's own API, which the quickstart serves.
//
// Environment:
//   OURS_URL     our quickstart on the fake        FAKE_URL     the fake Autumn API
//   OFFLINE_URL  our quickstart without a key      OFFLINE_API  the offline Autumn it serves
//
// Exit status 0 when every case has the expected outcome, 1 otherwise.

import { createAutumnClient } from "./node_modules/autumn-js/dist/react/client/AutumnClient.mjs";
import { cases } from "./cases.mjs";
import { env as envOf, out, runClient } from "./harness.mjs";

console.error = () => {};

const env = (name) => envOf(name, "offline").replace(/\/$/, "");

const OURS_URL = env("OURS_URL");
const FAKE_URL = env("FAKE_URL");
const OFFLINE_URL = env("OFFLINE_URL");
const OFFLINE_API = env("OFFLINE_API");

// Cases whose offline answer differs from the fake's on purpose: the fake answers anything, the
// offline Autumn answers from its state.
const expectedOffline = {
  "redeemReferralCode: code": {
    status: 404,
    code: "referral_code_not_found",
    reason: "no customer created the code ADA-123: the offline Autumn generates codes (REF000042)",
  },
  "updateSubscription: feature quantities": {
    status: 501,
    code: "not_implemented",
    reason: "the offline Autumn has no prepaid quantities; billing.update implements cancel_action",
  },
};

const api = async (op, body) => {
  const response = await fetch(`${OFFLINE_API}/v1/${op}`, {
    method: "POST",
    headers: { authorization: "Bearer am_sk_offline", "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
};

const must = async (op, body) => {
  const answer = await api(op, body);
  if (answer.status !== 200) throw new Error(`seeding ${op}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
};

/** The customer has `pro` active and not canceled (paying through the fake checkout page). */
const ensurePro = async (customer) => {
  const current = await must("customers.get_or_create", { customer_id: customer });
  const pro = current.subscriptions.find((s) => s.plan_id === "pro" && s.status === "active");
  if (pro && pro.canceled_at === null) return;
  if (!current.stripe_id) {
    const setup = await must("billing.setup_payment", { customer_id: customer });
    // The page's form carries a per-page token: a POST without it completes nothing (403).
    const html = await (await fetch(setup.url)).text();
    const token = /name="token" value="([^"]+)"/.exec(html)?.[1];
    if (!token) throw new Error(`no token on the page ${setup.url}`);
    const paid = await fetch(setup.url, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${encodeURIComponent(token)}`,
    });
    if (paid.status !== 200) throw new Error(`paying on ${setup.url}: ${paid.status}`);
  }
  const attach = await must("billing.attach", { customer_id: customer, plan_id: "pro" });
  if (attach.payment_url) throw new Error(`pro still needs a checkout: ${attach.payment_url}`);
};

/** The customer has neither `pro` nor `addon`, so attaching them is a change. */
const ensureNoPaidPlans = async (customer) => {
  const current = await must("customers.get_or_create", { customer_id: customer });
  for (const sub of current.subscriptions) {
    if (["pro", "addon"].includes(sub.plan_id) && sub.status === "active") {
      await must("billing.update", { customer_id: customer, plan_id: sub.plan_id, cancel_action: "cancel_immediately" });
    }
  }
};

const prepare = async (c) => {
  const customer = c.identity?.id;
  if (!customer) return;
  if (["updateSubscription", "previewUpdateSubscription"].includes(c.route)) await ensurePro(customer);
  if (["attach", "previewAttach", "multiAttach", "previewMultiAttach", "setupPayment"].includes(c.route)) {
    await ensureNoPaidPlans(customer);
  }
};

const run = (baseUrl, c) => runClient(createAutumnClient, baseUrl, c);

const outcome = (r) => (r.ok ? "ok" : `${r.statusCode} ${r.code}`);

const main = async () => {
  const selected = cases.filter((c) => !c.raw && !c.upstream);
  // Entities the cases read.
  for (const [id, name] of [["seat_1", "Seat 1"], ["seat_2", "Seat 2"]]) {
    const created = await api("entities.create", { customer_id: "cus_ada", entity_id: id, feature_id: "seats", name });
    if (created.status !== 200 && created.body.code !== "entity_already_exists") {
      throw new Error(`seeding entity ${id}: ${created.status} ${JSON.stringify(created.body)}`);
    }
  }
  const failures = [];
  const routes = new Set();
  for (const c of selected) {
    routes.add(c.route);
    await fetch(`${FAKE_URL}/__fake/reset`, { method: "POST" });
    const onFake = await run(OURS_URL, c);
    await prepare(c);
    const offline = await run(OFFLINE_URL, c);
    const expected = expectedOffline[c.name];
    let problem = null;
    if (expected) {
      if (offline.ok || offline.statusCode !== expected.status || offline.code !== expected.code) {
        problem = `expected ${expected.status} ${expected.code} (${expected.reason}), got ${outcome(offline)}`;
      }
    } else if (outcome(onFake) !== outcome(offline)) {
      problem = `on the fake ${outcome(onFake)}, offline ${outcome(offline)}: ${offline.message ?? ""}`;
    } else if (!offline.ok && offline.statusCode >= 500) {
      problem = `a server error on both sides: ${offline.message}`;
    }
    if (problem) {
      failures.push(c.name);
      out(`FAIL ${c.name}\n    ${problem}`);
    } else {
      out(`ok   ${c.name}: ${outcome(offline)}${expected ? ` (expected offline: ${expected.reason})` : ""}`);
    }
  }
  const successes = selected.length - failures.length;
  out();
  out(`offline: ${selected.length} client cases over ${routes.size} routes: ${successes} as expected, ${failures.length} failed`);
  if (failures.length) process.exitCode = 1;
};

main()
  .catch((error) => {
    out(`offline: ${error?.stack ?? error}`);
    process.exitCode = 2;
  })
  .finally(() => setTimeout(() => process.exit(), 100).unref());
