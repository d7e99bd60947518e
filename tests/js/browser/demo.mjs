// The quickstart's demo page (examples/quickstart/index.html) in headless Chromium, against the
// quickstart on the embedded offline Autumn: a new visitor sees the free plan and 100 messages, sends
// messages until the paywall names `messages`, upgrades to Pro on the offline checkout page, comes
// back to the page and sends again.
//
// Environment:
//   QUICKSTART_URL  the quickstart's base URL (started without AUTUMN_SECRET_KEY)
//   ARTIFACT_DIR    where the screenshots go (under target/): paywall.png, upgraded.png, and
//                   demo-failure.png when a step fails
//   CHROMIUM        the browser binary (default /usr/bin/chromium)
//
// Exit status 0 when every step passed.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const need = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value.replace(/\/$/, "");
};
const QUICKSTART_URL = need("QUICKSTART_URL");
const ARTIFACT_DIR = need("ARTIFACT_DIR");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const PAGE = `${QUICKSTART_URL}/`;

const expect = (condition, message) => {
  if (!condition) throw new Error(message);
};
const step = (text) => process.stdout.write(`ok   ${text}\n`);

mkdirSync(ARTIFACT_DIR, { recursive: true });
for (const old of ["paywall.png", "upgraded.png", "demo-failure.png"]) rmSync(join(ARTIFACT_DIR, old), { force: true });

const profile = mkdtempSync(join(tmpdir(), "autumn-demo-chromium-"));
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
const page = await context.newPage();
const console_ = [];
page.on("console", (m) => console_.push(`${m.type()}: ${m.text()}`));
page.on("pageerror", (e) => console_.push(`pageerror: ${e.message}`));

// The text of `#id` once `ok(text, arg)` holds (the page updates after its fetches answer). `ok` runs
// in the page, so it sees nothing of this script but `arg`.
const textOf = async (id, ok, what, arg = null) => {
  const locator = page.locator(`#${id}`);
  try {
    await page.waitForFunction(
      ([id, source, arg]) => {
        const el = document.getElementById(id);
        return el && new Function("text", "arg", `return (${source})(text, arg)`)(el.textContent, arg);
      },
      [id, ok.toString(), arg],
      { timeout: 15000 },
    );
  } catch {
    throw new Error(`${what}: #${id} is ${JSON.stringify(await locator.textContent().catch(() => null))}`);
  }
  return locator.textContent();
};

let failed = false;
try {
  // 1. A new visitor: the free plan and its 100 messages.
  await page.goto(PAGE);
  await page.waitForSelector("body[data-ready=true]", { timeout: 15000 });
  const visitor = await page.locator("#visitor").textContent();
  expect(/^visitor_[0-9a-f]{16}$/.test(visitor), `a random visitor id (got ${JSON.stringify(visitor)})`);
  await textOf("plan", (t) => t === "free", "the plan shows free");
  await textOf("balance", (t) => t === "100 of 100", "the balance shows 100 of 100");
  step(`new visitor ${visitor}: plan free, 100 of 100 messages`);

  // 2. One message through the button, 99 more through fetch in the page (same headers as the page).
  await page.click("#send");
  await textOf("balance", (t) => t === "99 of 100", "one click leaves 99");
  const statuses = await page.evaluate(async (visitor) => {
    const statuses = [];
    for (let i = 0; i < 99; i++) {
      const response = await fetch("/api/messages", {
        method: "POST",
        headers: { "content-type": "application/json", "x-customer-id": visitor },
        body: JSON.stringify({ text: `message ${i + 2}` }),
      });
      statuses.push(response.status);
    }
    return statuses;
  }, visitor);
  expect(statuses.every((s) => s === 200), `messages 2 to 100 answer 200 (got ${statuses.join(",")})`);
  step("messages 1 to 100 sent (the first by clicking Send message)");

  // 3. The 101st, by clicking: the paywall names `messages`.
  await page.click("#send");
  await page.locator("#paywall").waitFor({ state: "visible", timeout: 15000 });
  const paywall = await page.locator("#paywall").textContent();
  expect(paywall.includes("messages"), `the paywall names messages: ${JSON.stringify(paywall)}`);
  expect((await page.locator("#paywall").getAttribute("data-feature-id")) === "messages", "the paywall's feature is messages");
  await textOf("balance", (t) => t === "0 of 100", "the balance shows 0 of 100");
  await page.screenshot({ path: join(ARTIFACT_DIR, "paywall.png"), fullPage: true });
  step(`message 101: paywall (${paywall.replace(/\s+/g, " ").trim()}); screenshot ${join(ARTIFACT_DIR, "paywall.png")}`);

  // 4. Upgrade: the offline checkout page, pay, back to the page.
  await Promise.all([page.waitForURL(/\/checkout\/co_[0-9a-f]+$/, { timeout: 15000 }), page.click("#upgrade")]);
  const checkout = page.url();
  expect(!checkout.startsWith(QUICKSTART_URL), `the checkout page is the offline Autumn's, on its own port (${checkout})`);
  const checkoutText = await page.locator("body").textContent();
  expect(checkoutText.includes("Pro") && checkoutText.includes(visitor), `the checkout page is for Pro and the visitor: ${checkoutText}`);
  step(`checkout page ${checkout}`);
  await Promise.all([page.waitForURL(PAGE, { timeout: 15000 }), page.getByRole("button", { name: "Pay" }).click()]);
  await page.waitForSelector("body[data-ready=true]", { timeout: 15000 });
  expect((await page.locator("#visitor").textContent()) === visitor, "the same visitor after the checkout");
  await textOf("plan", (t) => t === "pro", "the plan shows pro after paying");
  const balance = await textOf("balance", (t) => /^\d+ of \d+$/.test(t) && Number(t.split(" ")[0]) > 100, "a balance above 100 after paying");
  expect(await page.locator("#paywall").isHidden(), "no paywall after the upgrade");
  step(`paid, back on ${page.url()}: plan pro, ${balance} messages`);

  // 5. Sending works again.
  const before = Number(balance.split(" ")[0]);
  await page.click("#send");
  await textOf("status", (t) => t.startsWith("Message sent"), "the message is sent after the upgrade");
  await textOf("balance", (t, left) => t.startsWith(`${left} of`), `the balance drops to ${before - 1}`, before - 1);
  expect(await page.locator("#paywall").isHidden(), "no paywall after sending");
  await page.screenshot({ path: join(ARTIFACT_DIR, "upgraded.png"), fullPage: true });
  step(`sent again after the upgrade: ${await page.locator("#balance").textContent()} messages`);
} catch (error) {
  failed = true;
  const shot = join(ARTIFACT_DIR, "demo-failure.png");
  await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
  process.stdout.write(`FAIL ${error.message}\n    screenshot: ${shot}\n    page: ${page.url()}\n`);
  process.stdout.write(`    page console:\n      ${console_.join("\n      ") || "(empty)"}\n`);
  process.stdout.write(`    body: ${(await page.locator("body").innerText().catch(() => "?")).slice(0, 1500)}\n`);
}
await context.close();
rmSync(profile, { recursive: true, force: true });
process.stdout.write(`demo page: ${failed ? "FAILED" : "passed"}\n`);
process.exit(failed ? 1 : 0);
