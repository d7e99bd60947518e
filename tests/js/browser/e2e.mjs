// End-to-end: the React page in src/ (autumn-js's AutumnProvider and hooks), built with Vite,
// in headless Chromium, against OUR quickstart backend and the fake Autumn API.
//
// Environment:
//   BACKEND_URL   our quickstart's base URL (started with FRONTEND_ORIGIN=http://127.0.0.1:PAGE_PORT)
//   FAKE_URL      the fake Autumn API's base URL (its /__fake/ control API is used)
//   PAGE_PORT     where to serve the built page (the origin the quickstart's CORS allows)
//   ARTIFACT_DIR  where the build and failure screenshots go (under target/)
//   CHROMIUM      the browser binary (default /usr/bin/chromium)
//
// Exit status 0 when every scenario passes.

import http from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const need = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value.replace(/\/$/, "");
};
const BACKEND_URL = need("BACKEND_URL");
const FAKE_URL = need("FAKE_URL");
const PAGE_PORT = Number(need("PAGE_PORT"));
const ARTIFACT_DIR = need("ARTIFACT_DIR");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const PAGE_ORIGIN = `http://127.0.0.1:${PAGE_PORT}`;

const control = async (method, what) => {
  const response = await fetch(`${FAKE_URL}/__fake/${what}`, { method });
  if (!response.ok) throw new Error(`fake control ${what}: ${response.status}`);
  return response.json();
};

// `expect` stops a scenario; `check` records a problem and lets the scenario go on, so one run
// reports everything that is wrong.
const expect = (condition, message) => {
  if (!condition) throw new Error(message);
};
let problems = [];
const check = (condition, message) => {
  if (!condition) problems.push(message);
};
// Screenshots the page as it is when new problems were recorded since the last checkpoint, so
// the artifact shows the state that was wrong, not only where the scenario ended.
let shots = 0;
let reported = 0;
const checkpoint = async (page, label) => {
  if (problems.length === reported) return;
  reported = problems.length;
  const path = join(ARTIFACT_DIR, `browser-e2e-${++shots}-${label}.png`);
  await page.screenshot({ path, fullPage: true }).catch(() => {});
  problems.push(`(screenshot of the page at "${label}": ${path})`);
  reported = problems.length;
};

// --- build and serve the page --------------------------------------------------------------------
const outDir = join(ARTIFACT_DIR, "browser-e2e-dist");
await build({ root: here, logLevel: "error", build: { outDir, emptyOutDir: true } });

const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };
const server = http.createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, PAGE_ORIGIN).pathname)).replace(/^(\.\.[/\\])+/, "");
  const file = join(outDir, path === "/" ? "index.html" : path);
  try {
    const body = readFileSync(file);
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404).end("not found");
  }
});
await new Promise((resolve) => server.listen(PAGE_PORT, "127.0.0.1", resolve));

// --- the browser --------------------------------------------------------------------------------
const profile = mkdtempSync(join(tmpdir(), "autumn-e2e-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const pageUrl = (params) => `${PAGE_ORIGIN}/?${new URLSearchParams({ backend: BACKEND_URL, ...params })}`;
const upstream = async () => (await control("GET", "requests")).map((r) => ({ path: r.path, body: r.body }));

const scenarios = {
  async "identified customer: balances, plans, attach leads to the fake checkout"(page) {
    await page.goto(pageUrl({ customer: "cus_e2e", name: "Ada E2E", email: "ada.e2e@example.com" }));
    await page.getByTestId("customer").waitFor({ timeout: 15000 });
    // The page renders what autumn-js made of the fake's customer.
    check((await page.getByTestId("customer-name").textContent()) === "fake_name", "the customer name renders");
    for (const key of ["camelCaseKey", "snake_key"]) {
      const text = await page.getByTestId(`balance-${key}`).textContent({ timeout: 5000 }).catch(() => null);
      check(text === `${key}: 7 of 7`, `balance ${key} renders as "${key}: 7 of 7" (got ${JSON.stringify(text)}; feature ids are map keys and must reach the page unchanged)`);
    }
    await page.getByTestId("plan-fake_id").waitFor({ timeout: 15000 });
    check((await page.getByTestId("plan-name").first().textContent()) === "fake_name", "the plan name renders");

    await checkpoint(page, "customer-and-plans");
    const calls = await upstream();
    const create = calls.find((c) => c.path === "/v1/customers.get_or_create");
    expect(create, `the backend called customers.get_or_create (calls: ${JSON.stringify(calls)})`);
    check(
      create.body.customer_id === "cus_e2e" && create.body.name === "Ada E2E" && create.body.email === "ada.e2e@example.com",
      `customers.get_or_create carries the identified customer: ${JSON.stringify(create.body)}`,
    );
    const list = calls.find((c) => c.path === "/v1/plans.list");
    check(list && list.body.customer_id === "cus_e2e", `plans.list is for the customer: ${JSON.stringify(list)}`);

    await Promise.all([
      page.waitForURL(`${FAKE_URL}/__fake/checkout/**`, { timeout: 15000 }),
      page.getByTestId("attach-fake_id").click(),
    ]);
    await page.locator("#fake-checkout").waitFor({ timeout: 5000 });
    const attach = (await upstream()).find((c) => c.path === "/v1/billing.attach");
    expect(attach, "the backend called billing.attach");
    check(
      attach.body.customer_id === "cus_e2e" && attach.body.plan_id === "fake_id" && attach.body.success_url?.startsWith(PAGE_ORIGIN),
      `billing.attach carries the customer, the plan and the page as success URL: ${JSON.stringify(attach.body)}`,
    );
  },

  async "anonymous visitor: no_customer_id, plans still listed, no customer upstream"(page) {
    await page.goto(pageUrl({}));
    const error = page.getByTestId("customer-error");
    await error.waitFor({ timeout: 15000 });
    check((await error.textContent()) === "no_customer_id 401", `useCustomer fails with no_customer_id 401 (got ${await error.textContent()})`);
    await page.getByTestId("plan-fake_id").waitFor({ timeout: 15000 });
    const calls = await upstream();
    check(!calls.some((c) => c.path === "/v1/customers.get_or_create"), "no customer call upstream for an anonymous visitor");
    const list = calls.find((c) => c.path === "/v1/plans.list");
    check(list && list.body && !("customer_id" in list.body), `plans.list without a customer: ${JSON.stringify(list)}`);
  },
};

let failed = 0;
mkdirSync(ARTIFACT_DIR, { recursive: true });
for (const old of readdirSync(ARTIFACT_DIR)) if (old.endsWith(".png")) rmSync(join(ARTIFACT_DIR, old));
for (const [name, run] of Object.entries(scenarios)) {
  await control("POST", "reset");
  const page = await context.newPage();
  const console_ = [];
  page.on("console", (m) => console_.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => console_.push(`pageerror: ${e.message}`));
  problems = [];
  reported = 0;
  try {
    await run(page);
    if (problems.length) throw new Error(problems.join("\n    "));
    process.stdout.write(`ok   ${name}\n`);
  } catch (error) {
    failed++;
    if (problems.length && !error.message.startsWith(problems[0])) error.message = [...problems, error.message].join("\n    ");
    const shot = join(ARTIFACT_DIR, `browser-e2e-${++shots}-failure-end.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    process.stdout.write(`FAIL ${name}\n    ${error.message}\n    screenshot: ${shot}\n    page: ${page.url()}\n`);
    process.stdout.write(`    page console:\n      ${console_.join("\n      ") || "(empty)"}\n`);
    process.stdout.write(`    DOM: ${(await page.locator("#root").innerHTML().catch(() => "?")).slice(0, 1500)}\n`);
  }
  await page.close();
}
await context.close();
server.close();
rmSync(profile, { recursive: true, force: true });
process.stdout.write(`browser e2e: ${Object.keys(scenarios).length} scenarios, ${failed} failed\n`);
process.exit(failed ? 1 : 0);
