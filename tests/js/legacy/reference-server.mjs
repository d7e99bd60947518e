// The legacy reference backend: autumn-js 0.1.85's own handler (its `autumn-js/hono` adapter) in a
// hono app served by @hono/node-server, mounted at /api/autumn/* as its docs show.
//
// Environment:
//   AUTUMN_SECRET_KEY  the secret key sent upstream (required)
//   AUTUMN_API_URL     the upstream base URL without /v1 (the adapter's `url` option includes /v1)
//   HOST, PORT         where to listen (default 127.0.0.1, 0 = any free port)
//
// Identify rule (the quickstart's demo rule): header `x-customer-id` names the customer (absent or
// empty: anonymous); `x-customer-name` and `x-customer-email` become the customer data. Prints
// `autumn legacy reference listening on http://HOST:PORT` once it listens.

import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { autumnHandler } from "autumn-js/hono";

const secretKey = process.env.AUTUMN_SECRET_KEY;
const upstream = process.env.AUTUMN_API_URL;
if (!secretKey || !upstream) {
  process.stderr.write("legacy reference-server: AUTUMN_SECRET_KEY and AUTUMN_API_URL are required\n");
  process.exit(2);
}

// autumn-js 0.1.85 logs bodies and errors with console.log/console.error; keep stdout for the
// "listening" line, and its chatter on stderr only when asked.
const verbose = process.env.REFERENCE_VERBOSE === "1";
console.log = verbose ? console.error : () => {};
if (!verbose) console.error = () => {};
process.on("unhandledRejection", (reason) => {
  if (verbose) process.stderr.write(`legacy reference-server: unhandled rejection: ${reason}\n`);
});

const header = (c, name) => c.req.header(name) || undefined;

const app = new Hono();
app.use(
  "/api/autumn/*",
  autumnHandler({
    secretKey,
    url: `${upstream.replace(/\/+$/, "")}/v1`,
    identify: (c) => {
      const customerId = header(c, "x-customer-id");
      if (!customerId) return null;
      return {
        customerId,
        customerData: { name: header(c, "x-customer-name"), email: header(c, "x-customer-email") },
      };
    },
  }),
);

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: process.env.HOST ?? "127.0.0.1" }, (info) => {
  process.stdout.write(`autumn legacy reference listening on http://${info.address}:${info.port}\n`);
});
