// autumn-js 1.3.13's backend through its hono adapter, served by @hono/node-server: the Node target
// of the load comparison (benches/load/run.sh).
//
// Environment:
//   AUTUMN_SECRET_KEY  the secret key sent upstream (required)
//   AUTUMN_API_URL     the upstream base URL, without /v1 (the SDK adds it)
//   HOST, PORT         where to listen (default 127.0.0.1:3000)
//
// Identify rule, the same as the Rust quickstart's demo: `x-customer-id` names the customer (absent
// or empty: anonymous), `x-customer-name` and `x-customer-email` become its data. Prints
// `autumn-js (hono) listening on http://HOST:PORT` once it listens.

import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { autumnHandler } from "autumn-js/hono";

const secretKey = process.env.AUTUMN_SECRET_KEY;
const autumnURL = process.env.AUTUMN_API_URL;
if (!secretKey || !autumnURL) {
  console.error("server.mjs: AUTUMN_SECRET_KEY and AUTUMN_API_URL are required");
  process.exit(2);
}
const hostname = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 3000);

const app = new Hono();
app.use(
  "/api/autumn/*",
  autumnHandler({
    secretKey,
    autumnURL,
    identify: (c) => {
      const customerId = c.req.header("x-customer-id");
      if (!customerId) return null;
      return {
        customerId,
        customerData: {
          name: c.req.header("x-customer-name"),
          email: c.req.header("x-customer-email"),
        },
      };
    },
  }),
);

serve({ fetch: app.fetch, hostname, port }, (info) => {
  console.log(`autumn-js (hono) listening on http://${info.address}:${info.port}`);
});
