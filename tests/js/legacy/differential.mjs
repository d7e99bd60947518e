// Legacy differential driver: every case of cases.mjs is sent as the same raw HTTP request to OUR
// server (the quickstart with AUTUMN_PROTOCOL=legacy) and to autumn-js 0.1.85's own backend
// (reference-server.mjs), both calling the same fake Autumn v1.2 (fake-autumn.mjs). It compares
// the status, media type and body each answers, and the upstream requests each made.
//
// Cases written as React client calls are first run through autumn-js 0.1.85's real `AutumnClient`
// against a capture server, so the request replayed is byte for byte the one the client sends.
//
// Environment:
//   OURS_URL           base URL of our server; "reference" starts a second reference instead, which
//                      checks the harness itself (every case must then match exactly)
//   FAKE_URL           base URL of the fake Autumn (fake-autumn.mjs)
//   AUTUMN_SECRET_KEY  the secret key both servers send (the fake checks it)
//   CASES              optional: only the cases whose name contains this text
//
// Exit status 0 when every case matches (or shows exactly its allow-listed difference), 1 when a
// case fails, 2 when the harness itself could not run.

import { spawn } from "node:child_process";
import http from "node:http";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// autumn-js 0.1.85's React client class, by file: its package entry imports React.
import { AutumnClient } from "./node_modules/autumn-js/dist/libraries/react/chunk-FCKM2ALL.mjs";
import { cases } from "./cases.mjs";
import { env as envOf, fakeControl, identityHeaders, out, show, typeOf } from "../harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
// The client warns and logs errors through the console; keep the report readable.
console.warn = () => {};
console.error = () => {};

const env = (name) => envOf(name, "legacy differential");
const FAKE_URL = env("FAKE_URL").replace(/\/+$/, "");
const SECRET = env("AUTUMN_SECRET_KEY");
const SELF_CHECK = env("OURS_URL") === "reference";

// ------------------------------------------------------------------------------------------------
// Servers.

const children = [];

const startReference = () =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, "reference-server.mjs")], {
      env: { ...process.env, AUTUMN_SECRET_KEY: SECRET, AUTUMN_API_URL: FAKE_URL, PORT: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    let buffered = "";
    const timer = setTimeout(() => reject(new Error("the legacy reference server did not start in 20 s")), 20000);
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const match = buffered.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`the legacy reference server exited with ${code}`)));
  });

/** A server that records the one request autumn-js's client sends, and answers `{}`. */
const startCapture = () =>
  new Promise((resolve) => {
    const seen = [];
    const server = http.createServer(async (req, res) => {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      seen.push({ method: req.method, path: req.url, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, seen, close: () => server.close() });
    });
  });

// ------------------------------------------------------------------------------------------------
// Requests.

// Headers the client's fetch adds on its own (undici's defaults, framing): not part of the request
// the page makes, and sent by the replaying fetch again anyway.
const TRANSPORT_HEADERS = new Set([
  "host", "connection", "content-length", "accept", "accept-language", "accept-encoding", "sec-fetch-mode", "user-agent",
]);

/** Runs `c.call` through autumn-js 0.1.85's AutumnClient; returns the raw request it sent. */
const captureClientRequest = async (capture, c) => {
  const client = new AutumnClient({
    backendUrl: capture.url,
    headers: identityHeaders(c.identity),
    includeCredentials: false,
    suppressLogs: true,
    ...(c.provider ?? {}),
  });
  const [method, ...args] = c.call;
  const [owner, fn] = method.includes(".") ? method.split(".") : [null, method];
  const target = owner ? client[owner] : client;
  if (typeof target?.[fn] !== "function") throw new Error(`${c.name}: AutumnClient has no method ${method}`);
  capture.seen.length = 0;
  await target[fn](...args);
  if (capture.seen.length !== 1) throw new Error(`${c.name}: the client sent ${capture.seen.length} requests, not 1`);
  const [sent] = capture.seen;
  const headers = {};
  for (let i = 0; i < sent.rawHeaders.length; i += 2) {
    const name = sent.rawHeaders[i].toLowerCase();
    if (!TRANSPORT_HEADERS.has(name)) headers[name] = sent.rawHeaders[i + 1];
  }
  return { method: sent.method, path: sent.path, headers, body: sent.method === "GET" || sent.method === "DELETE" ? undefined : sent.body };
};

/** Status, media type and body (JSON when it parses) of one raw request. */
const send = async (baseUrl, request) => {
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers: request.headers,
    body: request.body,
  });
  const text = await response.text();
  let body = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // keep the text
  }
  const contentType = (response.headers.get("content-type") ?? "").split(";")[0].trim() || null;
  return { status: response.status, contentType, body };
};

// ------------------------------------------------------------------------------------------------
// The fake's control API.

const control = fakeControl(FAKE_URL);

// Upstream headers whose values must match (a header absent on both sides compares equal). Not
// compared: transport headers (host, content-length, connection, accept-encoding) and the
// client's own defaults (`accept`: undici's `*/*` for autumn-js, `application/json` for us;
// `user-agent`): Autumn answers JSON whatever they say.
const COMPARED_HEADERS = [
  "authorization",
  "content-type",
  "x-api-version",
  "idempotency-key",
  "cookie",
  "x-customer-id",
  "x-customer-name",
  "x-customer-email",
];

const normalizeUpstream = (recorded) =>
  recorded.map((r) => {
    const headers = {};
    for (const name of COMPARED_HEADERS) {
      const found = r.headers.find(([n]) => n === name);
      if (found) headers[name] = found[1];
    }
    return {
      method: r.method,
      path: r.path,
      // autumn-js 0.1.85 writes `/customers?` and `/entities/{id}?` when there is no expand: an
      // empty query is no query (the same resource to any HTTP server), so it compares as absent.
      query: r.query === "" ? null : r.query,
      headers,
      body: r.rawBody === "" ? null : r.body ?? { unparsedBody: r.rawBody },
    };
  });

const runSide = async (baseUrl, c, request) => {
  await control("POST", "reset");
  for (const [path, fault] of Object.entries(c.upstream ?? {})) await control("POST", "script", { path, fault });
  const result = await send(baseUrl, request);
  const recorded = await control("GET", "requests");
  return {
    result,
    recorded,
    upstream: normalizeUpstream(recorded),
    violations: recorded.flatMap((r) => r.violations.map((v) => `${r.method} ${r.path}: ${v}`)),
  };
};

// ------------------------------------------------------------------------------------------------
// Checks.

const keyPath = (path, key) => (/^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

/** Every JSON path where `a` and `b` differ (at most `limit`); empty when they are equal. */
const differences = (a, b, path = "$", found = [], limit = 12) => {
  if (found.length >= limit) return found;
  if (typeOf(a) !== typeOf(b)) found.push(path);
  else if (Array.isArray(a)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) differences(a[i], b[i], `${path}[${i}]`, found, limit);
  } else if (a !== null && typeof a === "object") {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(key in a)) found.push(`${keyPath(path, key)} (absent in ours)`);
      else if (!(key in b)) found.push(`${keyPath(path, key)} (absent in reference)`);
      else differences(a[key], b[key], keyPath(path, key), found, limit);
    }
  } else if (!Object.is(a, b)) found.push(path);
  return found.slice(0, limit);
};

/**
 * What in our upstream requests names a customer other than the identified one: the `{id}` of a
 * `/customers/{id}` path, a `customer_id` query parameter, a body `customer_id` (or `id` on customer
 * creation), a `customer_data` other than identify's, a body containing "attacker" anywhere, and any
 * call at all for an anonymous caller outside the two routes that serve one. (An entity id or an
 * `expand` value may contain "attacker": they are the browser's to choose, as long as they stay
 * an entity id and an `expand` value.)
 */
const impersonationProblems = (c, recorded) => {
  const me = c.identity?.id ?? null;
  const problems = [];
  const expectedData = {};
  if (c.identity?.name !== undefined) expectedData.name = c.identity.name;
  if (c.identity?.email !== undefined) expectedData.email = c.identity.email;
  for (const r of recorded) {
    const where = `${r.method} ${r.path}${r.query === null ? "" : `?${r.query}`}`;
    if (/attacker/i.test(r.rawBody)) problems.push(`${where}: a customer named by the browser reached Autumn: ${r.rawBody.slice(0, 300)}`);
    const segments = r.path.split("/");
    const at = segments.indexOf("customers");
    if (at >= 0 && segments[at + 1] !== undefined && decodeURIComponent(segments[at + 1]) !== me) {
      problems.push(`${where}: path customer ${segments[at + 1]} is not ${me}`);
    }
    if (at >= 0 && segments.length > at + 4) problems.push(`${where}: the entity id did not stay one path segment`);
    for (const [name, value] of new URLSearchParams(r.query ?? "")) {
      if (name === "customer_id" && value !== me) problems.push(`${where}: query customer_id=${value} is not ${me}`);
      if (!["customer_id", "expand"].includes(name)) problems.push(`${where}: unexpected query parameter ${name}`);
    }
    const bodies = Array.isArray(r.body) ? r.body : r.body && typeof r.body === "object" ? [r.body] : [];
    for (const body of bodies) {
      if (body === null || typeof body !== "object") continue;
      if ("customer_id" in body && body.customer_id !== me) problems.push(`${where}: body customer_id ${JSON.stringify(body.customer_id)} is not ${me}`);
      if ("customer_data" in body && differences(body.customer_data, expectedData).length) {
        problems.push(`${where}: body customer_data ${JSON.stringify(body.customer_data)} is not identify's ${JSON.stringify(expectedData)}`);
      }
      if (r.path === "/v1/customers" && body.id !== me) problems.push(`${where}: customer created as ${JSON.stringify(body.id)}, not ${me}`);
    }
    if (me === null && !(r.method === "GET" && ["/v1/products_beta", "/v1/components/pricing_table"].includes(r.path))) {
      problems.push(`${where}: an anonymous caller reached Autumn on a customer route`);
    }
  }
  return problems;
};

/** Upstream requests with `keys` removed from each body (or each item of an array body). */
const withoutBodyKeys = (upstream, keys) =>
  upstream.map((r) => {
    const strip = (v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).filter(([k]) => !keys.includes(k))) : v);
    return { ...r, body: Array.isArray(r.body) ? r.body.map(strip) : strip(r.body) };
  });

const UPSTREAM_RULES = ["none", "same", "any", "without", "repeats", "narrowed"];

/** True when `ours` is `reference` with some object fields left out, at any depth (and nothing added). */
const isNarrowing = (ours, reference) => {
  if (Array.isArray(ours)) return Array.isArray(reference) && ours.length === reference.length && ours.every((v, i) => isNarrowing(v, reference[i]));
  if (ours && typeof ours === "object") {
    return !!reference && typeof reference === "object" && !Array.isArray(reference) && Object.entries(ours).every(([k, v]) => k in reference && isNarrowing(v, reference[k]));
  }
  return JSON.stringify(ours) === JSON.stringify(reference);
};

/** `narrowed`: the same requests, each of our bodies the reference's minus fields outside the allow-list. */
const narrowedProblem = (ours, reference) => {
  if (ours.length !== reference.length) return `ours sent ${ours.length} requests, the reference ${reference.length}`;
  for (let i = 0; i < ours.length; i++) {
    const { body: a, ...restOurs } = ours[i];
    const { body: b, ...restRef } = reference[i];
    const d = differences(restOurs, restRef);
    if (d && (!Array.isArray(d) || d.length)) return `request ${i} differs beyond its body`;
    if (!isNarrowing(a, b)) return `request ${i}: our body is not the reference's with fields left out`;
  }
  return undefined;
};

const allowlist = JSON.parse(readFileSync(join(here, "allowlist.json"), "utf8"));

const checkCase = (c, ours, reference) => {
  const problems = [];
  const entry = SELF_CHECK ? undefined : allowlist.cases[c.name];
  const resultDiff = differences(ours.result, reference.result);
  const upstreamDiff = differences(ours.upstream, reference.upstream);

  const newViolations = SELF_CHECK
    ? [...ours.violations, ...reference.violations]
    : ours.violations.filter((v) => !reference.violations.includes(v));
  if (newViolations.length) problems.push(`upstream requests no Autumn client should send:\n      ${newViolations.join("\n      ")}`);
  if (!SELF_CHECK) {
    for (const p of impersonationProblems(c, ours.recorded)) problems.push(`impersonation: ${p}`);
  }

  if (entry) {
    const code = typeof ours.result.body === "object" ? ours.result.body?.code : undefined;
    if (ours.result.status !== entry.expect.status || (entry.expect.code && code !== entry.expect.code)) {
      problems.push(`allow-listed, but ours does not show the documented behaviour: expected ${entry.expect.status} ${entry.expect.code ?? ""}, got ${ours.result.status} ${code ?? ""}`);
    }
    if (entry.upstream === "none" && ours.upstream.length) problems.push(`allow-listed with no upstream call, but ours made ${ours.upstream.length}`);
    if (entry.upstream === "same" && upstreamDiff.length) problems.push(`upstream requests differ at ${upstreamDiff.join(", ")}`);
    if (entry.upstream === "without") {
      const diff = differences(ours.upstream, withoutBodyKeys(reference.upstream, entry.without));
      if (diff.length) problems.push(`ours should send the reference's requests without ${entry.without.join(", ")}; they differ at ${diff.join(", ")}`);
    }
    if (entry.upstream === "narrowed") {
      const problem = narrowedProblem(ours.upstream, reference.upstream);
      if (problem) problems.push(`ours should send the reference's requests narrowed to the allow-list: ${problem}`);
    }
    if (entry.upstream === "repeats") {
      const [first, ...others] = reference.upstream;
      const ok = reference.upstream.length === 1 && ours.upstream.length >= 1 && ours.upstream.length <= 3 && ours.upstream.every((r) => !differences(r, first).length);
      if (!ok || others.length) problems.push(`ours should repeat the reference's one request at most twice; ours sent ${ours.upstream.length}, the reference ${reference.upstream.length}`);
    }
    if (!resultDiff.length && !upstreamDiff.length) problems.push("allow-listed, but both sides now behave the same: remove the entry");
  } else {
    if (resultDiff.length) problems.push(`the answer differs at ${resultDiff.join(", ")}`);
    if (upstreamDiff.length) problems.push(`upstream requests differ at ${upstreamDiff.join(", ")}`);
  }
  return { problems, allowListed: !!entry };
};

// ------------------------------------------------------------------------------------------------
// Main.

// Every legacy route (method and path after the prefix); a full run must reach each of them.
const ROUTES = [
  "POST cors", "POST customers", "POST attach", "POST checkout", "POST setup_payment", "POST cancel", "POST check",
  "POST track", "POST query", "POST billing_portal", "POST entities", "GET entities/:entityId",
  "DELETE entities/:entityId", "GET products", "GET components/pricing_table", "POST referrals/code",
  "POST referrals/redeem", "POST events/list", "POST events/aggregate",
];
const routeOf = (method, path) => {
  const rest = path.split("?")[0].replace(/^\/api\/autumn\//, "").replace(/\/+$/, "");
  return `${method} ${rest.replace(/^entities\/[^/]+$/, "entities/:entityId")}`;
};

const main = async () => {
  const names = new Set();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`);
    names.add(c.name);
    if (!c.call === !c.raw) throw new Error(`${c.name}: a case has either call or raw`);
  }
  for (const [name, entry] of Object.entries(allowlist.cases)) {
    if (!entry.reason || !entry.expect?.status || !UPSTREAM_RULES.includes(entry.upstream) || (entry.upstream === "without") !== Array.isArray(entry.without)) {
      throw new Error(`allow-list entry ${name} needs reason, expect.status, upstream (${UPSTREAM_RULES.join("|")}) and, with "without", the list of body keys`);
    }
  }
  const staleEntries = Object.keys(allowlist.cases).filter((name) => !names.has(name));

  const referenceUrl = await startReference();
  const oursUrl = SELF_CHECK ? await startReference() : env("OURS_URL").replace(/\/+$/, "");
  const capture = await startCapture();
  const filter = process.env.CASES;
  const selected = cases.filter((c) => !filter || c.name.includes(filter));
  out(`legacy differential: ${selected.length} cases; ours ${oursUrl}${SELF_CHECK ? " (a second reference: self-check)" : ""}, reference ${referenceUrl} (autumn-js 0.1.85), fake ${FAKE_URL}`);

  const failures = [];
  const routes = new Set();
  let allowed = 0;
  for (const c of selected) {
    const request = c.call
      ? await captureClientRequest(capture, c)
      : { ...c.raw, headers: { ...identityHeaders(c.identity), ...c.raw.headers } };
    routes.add(routeOf(request.method, request.path));
    const ours = await runSide(oursUrl, c, request);
    const reference = await runSide(referenceUrl, c, request);
    const verdict = checkCase(c, ours, reference);
    if (verdict.problems.length) {
      failures.push(c.name);
      out(`FAIL ${c.name}`);
      for (const p of verdict.problems) out(`    ${p}`);
      out(`    request:   ${show(request, 800)}`);
      out(`    ours:      ${show(ours.result)}`);
      out(`               upstream ${show(ours.upstream)}`);
      out(`    reference: ${show(reference.result)}`);
      out(`               upstream ${show(reference.upstream)}`);
    } else {
      if (verdict.allowListed) allowed++;
      out(`ok   ${c.name}${verdict.allowListed ? " (allow-listed deliberate difference)" : ""}`);
    }
  }
  if (!filter) {
    for (const route of ROUTES.filter((r) => !routes.has(r))) {
      failures.push(`coverage: ${route}`);
      out(`FAIL no case reaches the legacy route ${route}`);
    }
    for (const name of staleEntries) {
      failures.push(`allow-list: ${name}`);
      out(`FAIL allow-list entry "${name}" names no case`);
    }
  }
  capture.close();
  out();
  out(`legacy differential: ${selected.length} cases over ${ROUTES.filter((r) => routes.has(r)).length} of ${ROUTES.length} legacy routes: ${selected.length - failures.length} passed (${allowed} as allow-listed deliberate differences), ${failures.length} failed`);
  if (failures.length) {
    out(`failed: ${failures.join(", ")}`);
    process.exitCode = 1;
  }
};

main()
  .catch((error) => {
    out(`legacy differential: ${error?.stack ?? error}`);
    process.exitCode = 2;
  })
  .finally(() => {
    children.forEach((child) => child.kill());
    setTimeout(() => process.exit(), 100).unref();
  });
