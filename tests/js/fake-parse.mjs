// Checks that the fake Autumn API's generated answers satisfy autumn-js's own response parsers,
// for every path of the spec that autumn-js's SDK calls (not only the 15 browser routes).
//
// The SDK bundle names, for each path, the zod schema its response goes through
// (`json(200, <Name>$inboundSchema)`); the schemas themselves are exported by `autumn-js`.
//
// Environment: FAKE_URL (the fake's base URL). Exit status 0 when every answer parses.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as sdk from "autumn-js";

const FAKE_URL = (process.env.FAKE_URL ?? "").replace(/\/$/, "");
if (!FAKE_URL) {
  console.log("fake-parse: FAKE_URL is required");
  process.exit(2);
}

const bundlePath = createRequire(import.meta.url).resolve("autumn-js").replace(/index\.js$/, "index.mjs");
const bundle = readFileSync(bundlePath, "utf8");

// Each operation function: its path, then the schema its success answer is parsed with.
const operations = new Map();
const pathPattern = /pathToFunc\("(\/v1\/[^"]+)"\)/g;
const starts = [...bundle.matchAll(pathPattern)];
starts.forEach((match, i) => {
  const end = i + 1 < starts.length ? starts[i + 1].index : bundle.length;
  const body = bundle.slice(match.index, end);
  const parsed = body.match(/json\((20[0-9]), ([A-Za-z0-9_]+)\$inboundSchema/);
  if (parsed) operations.set(match[1], parsed[2]);
});

const leaves = (issues, path = []) =>
  issues.flatMap((issue) =>
    issue.code === "invalid_union" && issue.errors
      ? issue.errors.flatMap((branch) => leaves(branch, [...path, ...issue.path]))
      : [{ ...issue, path: [...path, ...issue.path] }],
  );

let failed = 0;
let checked = 0;
let notInSpec = 0;
for (const [path, name] of [...operations].sort()) {
  const schema = sdk[`${name}$inboundSchema`];
  if (!schema) {
    failed++;
    console.log(`FAIL ${path}: autumn-js does not export ${name}$inboundSchema`);
    continue;
  }
  const response = await fetch(`${FAKE_URL}${path}`, {
    method: "POST",
    headers: { authorization: "Bearer am_sk_test_fake_parse", "x-api-version": "2.4.0", "content-type": "application/json" },
    body: "{}",
  });
  if (response.status === 404) {
    // A path the SDK knows but the committed spec (2.3.0) does not.
    notInSpec++;
    console.log(`skip ${path}: not in the spec`);
    continue;
  }
  checked++;
  const body = await response.json();
  const result = schema.safeParse(body);
  if (result.success) {
    console.log(`ok   ${path} (${name})`);
  } else {
    failed++;
    const real = leaves(result.error.issues).filter((i) => i.expected !== "null" && i.code !== "invalid_union");
    console.log(`FAIL ${path} (${name}):`);
    for (const issue of (real.length ? real : result.error.issues).slice(0, 5)) {
      console.log(`    ${issue.path.join(".")}: ${issue.code} ${issue.expected ?? ""} ${issue.message}`);
    }
  }
}
await fetch(`${FAKE_URL}/__fake/reset`, { method: "POST" });
console.log(`fake-parse: ${checked} paths parsed by autumn-js, ${failed} failed, ${notInSpec} SDK paths not in the spec`);
process.exit(failed || checked < 15 ? 1 : 0);
