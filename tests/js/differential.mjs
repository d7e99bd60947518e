// Differential conformance driver: runs every case against OUR server and against autumn-js
// 1.3.13's own backend (reference-server.mjs), both talking to the same fake Autumn API, and
// compares what the browser sees and what the Autumn API receives.
//
// Environment:
//   OURS_URL           base URL of our server (the quickstart), e.g. http://127.0.0.1:3000;
//                      the value "reference" starts a second reference server instead, which
//                      checks the harness itself (every case must then match exactly).
//   FAKE_URL           base URL of the fake Autumn API (tests/support/fake_autumn.rs)
//   AUTUMN_SECRET_KEY  the secret key our server was started with; the reference gets the same
//   REFERENCE_URL      optional: an already running reference server (else one is started)
//   CASES              optional: only run cases whose name contains this text
//
// Exit status 0 when every case matches (or matches its allow-list entry), 1 otherwise.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createAutumnClient } from "./node_modules/autumn-js/dist/react/client/AutumnClient.mjs";
import { cases } from "./cases.mjs";
import {
  env as envOf,
  fakeControl,
  identityHeaders,
  out,
  runClient as runClientWith,
  show,
  typeOf,
} from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
// autumn-js's client logs every error it throws with console.error; keep the report readable.
console.error = () => {};
const env = (name) => envOf(name, "differential");

const FAKE_URL = env("FAKE_URL").replace(/\/$/, "");
const SECRET = env("AUTUMN_SECRET_KEY");
const SELF_CHECK = env("OURS_URL") === "reference";

// ------------------------------------------------------------------------------------------------
// Servers.

const children = [];
process.on("exit", () => children.forEach((child) => child.kill()));

/** Starts reference-server.mjs against the fake; resolves to its base URL. */
const startReference = () =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, "reference-server.mjs")], {
      env: { ...process.env, AUTUMN_SECRET_KEY: SECRET, AUTUMN_API_URL: FAKE_URL, PORT: "0" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    let buffered = "";
    const timer = setTimeout(() => reject(new Error("reference server did not start in 20 s")), 20000);
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const match = buffered.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`reference server exited with ${code}`)));
  });

// ------------------------------------------------------------------------------------------------
// The fake's control API.

const control = fakeControl(FAKE_URL);

// Upstream headers whose values must match; a header absent on both sides compares equal.
const COMPARED_HEADERS = [
  "authorization",
  "content-type",
  "accept",
  "x-api-version",
  "cookie",
  "x-customer-id",
  "x-customer-name",
  "x-customer-email",
  "idempotency-key",
];

const normalizeUpstream = (recorded) =>
  recorded.map((r) => {
    const headers = {};
    for (const name of COMPARED_HEADERS) {
      // An empty header says nothing (autumn-js sends an empty `cookie`); compare it as absent.
      const found = r.headers.find(([n, v]) => n === name && v !== "");
      if (found) headers[name] = found[1];
    }
    return {
      method: r.method,
      path: r.path,
      query: r.query,
      headers,
      body: r.body ?? (r.rawBody === "" ? null : { unparsedBody: r.rawBody }),
    };
  });

// ------------------------------------------------------------------------------------------------
// Running one case on one side.

/** What the browser sees through autumn-js's client: a value, or an AutumnClientError. */
const runClient = (baseUrl, c) => runClientWith(createAutumnClient, baseUrl, c);

/** What a raw HTTP client sees: status, media type, body (JSON when it parses). */
const runRaw = async (baseUrl, c) => {
  const response = await fetch(`${baseUrl}${c.raw.path}`, {
    method: c.raw.method,
    headers: { ...identityHeaders(c.identity), ...(c.raw.headers ?? {}) },
    body: c.raw.body,
  });
  const text = await response.text();
  let body = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // keep the text
  }
  const contentType = (response.headers.get("content-type") ?? "").split(";")[0].trim() || null;
  const result = { status: response.status, contentType, body };
  for (const name of c.raw.compareHeaders ?? []) result[`header:${name}`] = response.headers.get(name);
  return result;
};

// autumn-js has no upstream timeout: on a case with `referenceGivesUpAfterMs` the driver stops
// waiting for the reference after that long and records that it gave no answer.
const withDeadline = (promise, ms) =>
  ms
    ? Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve({ noAnswerWithinMs: ms }), ms))])
    : promise;

const runSide = async (baseUrl, c, side) => {
  await control("POST", "reset");
  for (const [path, fault] of Object.entries(c.upstream ?? {})) {
    await control("POST", "script", { path, fault });
  }
  const run = c.raw ? runRaw(baseUrl, c) : runClient(baseUrl, c);
  const result = await withDeadline(run, side === "reference" ? c.referenceGivesUpAfterMs : undefined);
  // Give a server a moment to finish anything it does after answering (it should not).
  const recorded = await control("GET", "requests");
  return {
    result,
    upstream: normalizeUpstream(recorded),
    violations: recorded.flatMap((r) => r.violations.map((v) => `${r.path}: ${v}`)),
  };
};

// ------------------------------------------------------------------------------------------------
// Comparison.


/** The first JSON path where `a` and `b` differ, or null when they are equal. */
const firstDifference = (a, b, path = "$") => {
  if (typeOf(a) !== typeOf(b)) return { path, ours: a, reference: b };
  if (Array.isArray(a)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length || i >= b.length) return { path: `${path}[${i}]`, ours: a[i], reference: b[i] };
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a !== null && typeof a === "object") {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const sub = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      if (!(key in a) || !(key in b)) return { path: sub, ours: a[key], reference: b[key], missing: !(key in a) ? "ours" : "reference" };
      const d = firstDifference(a[key], b[key], sub);
      if (d) return d;
    }
    return null;
  }
  return Object.is(a, b) ? null : { path, ours: a, reference: b };
};

/** Every differing JSON path (up to `limit`), to show the whole extent of a difference. */
const allDifferences = (a, b, path = "$", found = [], limit = 12) => {
  if (found.length >= limit) return found;
  if (typeOf(a) !== typeOf(b)) {
    found.push(path);
  } else if (Array.isArray(a)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) allDifferences(a[i], b[i], `${path}[${i}]`, found, limit);
  } else if (a !== null && typeof a === "object") {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const sub = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      if (!(key in a)) found.push(`${sub} (absent in ours)`);
      else if (!(key in b)) found.push(`${sub} (absent in reference)`);
      else allDifferences(a[key], b[key], sub, found, limit);
    }
  } else if (!Object.is(a, b)) {
    found.push(path);
  }
  return found.slice(0, limit);
};

/** The status and error code a result shows (for allow-list expectations). */
const statusAndCode = (c, result) =>
  c.raw
    ? { status: result.status, code: result.body?.code }
    : result.ok
      ? { status: 200, code: undefined }
      : { status: result.statusCode, code: result.code };

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
    const d = firstDifference(restOurs, restRef);
    if (d && (!Array.isArray(d) || d.length)) return `request ${i} differs beyond its body`;
    if (!isNarrowing(a, b)) return `request ${i}: our body is not the reference's with fields left out`;
  }
  return undefined;
};

const allowlist = JSON.parse(readFileSync(join(here, "allowlist.json"), "utf8"));

const checkCase = (c, ours, reference) => {
  const problems = [];
  const entry = SELF_CHECK ? undefined : allowlist.cases[c.name];
  const resultDiff = firstDifference(ours.result, reference.result);
  const upstreamDiff = firstDifference(ours.upstream, reference.upstream);

  // With no fault scripted, the fake's generated answer must satisfy autumn-js's response parser;
  // if it does not, the reference's answer is a 200 error body and the case proves nothing.
  if (!c.upstream) {
    for (const [side, r] of [["ours", ours.result], ["reference", reference.result]]) {
      const value = r.ok ? r.value : r.body;
      if (value && value.statusCode === 200 && value.code === "autumn_api_error") {
        problems.push(`harness: autumn-js rejected the fake's generated response (${side}): ${value.message}`);
      }
    }
  }

  // Against itself, autumn-js must send only spec-valid requests (else the fake or spec drifted);
  // against ours, what counts is what ours sends beyond what autumn-js sends.
  const newViolations = SELF_CHECK
    ? [...ours.violations, ...reference.violations]
    : ours.violations.filter((v) => !reference.violations.includes(v));
  if (newViolations.length) problems.push(`our upstream requests violate the spec:\n      ${newViolations.join("\n      ")}`);

  if (entry) {
    const seen = statusAndCode(c, ours.result);
    if (seen.status !== entry.expect.status || (entry.expect.code && seen.code !== entry.expect.code)) {
      problems.push(
        `allow-listed, but ours does not show the documented behaviour: expected ${entry.expect.status} ${entry.expect.code ?? ""}, got ${seen.status} ${seen.code ?? ""}`,
      );
    }
    if (entry.upstream === "none" && ours.upstream.length) {
      problems.push(`allow-listed with no upstream call, but ours made ${ours.upstream.length}`);
    }
    if (entry.upstream === "same" && upstreamDiff) {
      problems.push(`upstream requests differ at ${upstreamDiff.path}`);
    }
    if (entry.upstream === "narrowed") {
      const problem = narrowedProblem(ours.upstream, reference.upstream);
      if (problem) problems.push(`ours should send the reference's requests narrowed to the allow-list: ${problem}`);
    }
    if (!resultDiff && !upstreamDiff) {
      problems.push("allow-listed, but both sides now behave the same: remove the entry");
    }
  } else {
    if (resultDiff) problems.push(`client-visible result differs at ${resultDiff.path}`);
    if (upstreamDiff) problems.push(`upstream requests differ at ${upstreamDiff.path}`);
  }
  return { problems, resultDiff, upstreamDiff, allowListed: !!entry };
};

// ------------------------------------------------------------------------------------------------
// Main.

const main = async () => {
  const referenceUrl = process.env.REFERENCE_URL || (await startReference());
  const oursUrl = SELF_CHECK ? await startReference() : env("OURS_URL").replace(/\/$/, "");
  const filter = process.env.CASES;
  const selected = cases.filter((c) => !filter || c.name.includes(filter));

  const names = new Set();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`);
    names.add(c.name);
  }
  const staleEntries = Object.keys(allowlist.cases).filter((name) => !names.has(name));
  for (const [name, entry] of Object.entries(allowlist.cases)) {
    if (!entry.reason || !entry.expect?.status || !["none", "same", "any", "narrowed"].includes(entry.upstream)) {
      throw new Error(`allow-list entry ${name} needs reason, expect.status and upstream (none|same|any|narrowed)`);
    }
  }

  out(`differential: ${selected.length} cases; ours ${oursUrl}${SELF_CHECK ? " (a second reference: self-check)" : ""}, reference ${referenceUrl}, fake ${FAKE_URL}`);
  const failures = [];
  let allowed = 0;
  const violationCount = { ours: 0, reference: 0 };
  const routes = new Set();
  for (const c of selected) {
    if (!c.raw) routes.add(c.route);
    const ours = await runSide(oursUrl, c, SELF_CHECK ? "reference" : "ours");
    const reference = await runSide(referenceUrl, c, "reference");
    const verdict = checkCase(c, ours, reference);
    violationCount.ours += ours.violations.length;
    violationCount.reference += reference.violations.length;
    if (verdict.problems.length) {
      failures.push(c.name);
      out(`FAIL ${c.name}`);
      for (const p of verdict.problems) out(`    ${p}`);
      const describe = (d) =>
        d ? `${d.path}: ours ${d.missing === "ours" ? "(absent)" : show(d.ours, 400)} | reference ${d.missing === "reference" ? "(absent)" : show(d.reference, 400)}` : "equal";
      out(`    first difference in result:   ${describe(verdict.resultDiff)}`);
      out(`    first difference in upstream: ${describe(verdict.upstreamDiff)}`);
      if (verdict.resultDiff) out(`    all differing result paths:   ${allDifferences(ours.result, reference.result).join(", ")}`);
      if (verdict.upstreamDiff) out(`    all differing upstream paths: ${allDifferences(ours.upstream, reference.upstream).join(", ")}`);
      out(`    request:   ${show(c.raw ?? { route: c.route, params: c.params, identity: c.identity, headers: c.headers, upstream: c.upstream }, 800)}`);
      out(`    ours:      result ${show(ours.result)}`);
      out(`               upstream ${show(ours.upstream)}`);
      out(`    reference: result ${show(reference.result)}`);
      out(`               upstream ${show(reference.upstream)}`);
      if (reference.violations.length) out(`    (the reference's own upstream requests violate the spec too: ${reference.violations.join("; ")})`);
    } else {
      if (verdict.allowListed) allowed++;
      out(`ok   ${c.name}${verdict.allowListed ? " (allow-listed deliberate difference)" : ""}`);
    }
  }
  if (!filter) {
    for (const name of staleEntries) {
      failures.push(`allow-list: ${name}`);
      out(`FAIL allow-list entry "${name}" names no case`);
    }
  }
  out();
  out(`upstream requests that violate the spec: ours ${violationCount.ours}, reference ${violationCount.reference}`);
  out(`differential: ${selected.length} cases over ${routes.size} routes: ${selected.length - failures.length} passed (${allowed} as allow-listed deliberate differences), ${failures.length} failed`);
  if (failures.length) {
    out(`failed: ${failures.join(", ")}`);
    process.exitCode = 1;
  }
};

main()
  .catch((error) => {
    out(`differential: ${error?.stack ?? error}`);
    process.exitCode = 2;
  })
  .finally(() => {
    children.forEach((child) => child.kill());
    // Leave the event loop even if a keep-alive socket lingers.
    setTimeout(() => process.exit(), 100).unref();
  });
