// The reference backend: autumn-js 1.3.13's own handler (its `autumn-js/fetch` adapter) behind a
// small node:http bridge. The differential driver runs our server and this one side by side.
//
// Environment:
//   AUTUMN_SECRET_KEY  the secret key sent upstream (required)
//   AUTUMN_API_URL     the upstream base URL, without /v1 (the SDK adds /v1 to every path)
//   HOST, PORT         where to listen (default 127.0.0.1, 0 = any free port)
//   CORS_ORIGIN        optional: answer CORS for this browser origin, as an app would in front of
//                      autumn-js's handler (the handler itself adds no CORS); used when the
//                      browser test runs against the reference
//
// Identify rule (the same as our quickstart's demo rule): header `x-customer-id` names the
// customer (absent or empty: anonymous); `x-customer-name` and `x-customer-email` become the
// customer data. Prints `autumn reference listening on http://HOST:PORT` once it listens.

import http from "node:http";
import { autumnHandler } from "autumn-js/fetch";

const secretKey = process.env.AUTUMN_SECRET_KEY;
const upstream = process.env.AUTUMN_API_URL;
if (!secretKey || !upstream) {
  console.error("reference-server: AUTUMN_SECRET_KEY and AUTUMN_API_URL are required");
  process.exit(2);
}

// autumn-js logs request URLs and bodies with console.log/console.error; keep stdout for the
// "listening" line and send its chatter to stderr only when asked.
const verbose = process.env.REFERENCE_VERBOSE === "1";
console.log = verbose ? console.error : () => {};
if (!verbose) console.error = () => {};

// An upstream 2xx that is not JSON leaves a rejected promise behind in autumn-js; a default Node
// process would exit on it after the response was sent.
process.on("unhandledRejection", (reason) => {
  if (verbose) process.stderr.write(`reference-server: unhandled rejection: ${reason}\n`);
});

const header = (request, name) => {
  const value = request.headers.get(name);
  return value ? value : undefined;
};

const handle = autumnHandler({
  secretKey,
  autumnURL: upstream,
  identify: (request) => {
    const customerId = header(request, "x-customer-id");
    if (!customerId) return null;
    return {
      customerId,
      customerData: {
        name: header(request, "x-customer-name"),
        email: header(request, "x-customer-email"),
      },
    };
  },
});

const corsOrigin = process.env.CORS_ORIGIN;
const corsHeaders = corsOrigin
  ? {
      "access-control-allow-origin": corsOrigin,
      "access-control-allow-credentials": "true",
      vary: "origin",
    }
  : {};

const server = http.createServer(async (req, res) => {
  if (corsOrigin && req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
    res.writeHead(204, {
      ...corsHeaders,
      "access-control-allow-methods": "GET, POST, OPTIONS",
      "access-control-allow-headers": "content-type, x-customer-id, x-customer-name, x-customer-email",
    });
    res.end();
    return;
  }
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) value.forEach((v) => headers.append(name, v));
      else if (value !== undefined) headers.set(name, value);
    }
    const hasBody = !["GET", "HEAD"].includes(req.method);
    const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url}`, {
      method: req.method,
      headers,
      body: hasBody ? body : undefined,
    });
    const response = await handle(request);
    const out = Buffer.from(await response.arrayBuffer());
    const outHeaders = { ...corsHeaders };
    response.headers.forEach((value, name) => {
      outHeaders[name] = value;
    });
    res.writeHead(response.status, outHeaders);
    res.end(out);
  } catch (error) {
    // Not autumn-js's behaviour but the bridge's: make it visible rather than hang.
    res.writeHead(599, { "content-type": "text/plain" });
    res.end(`reference bridge failure: ${error?.stack ?? error}`);
  }
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  const { address, port } = server.address();
  process.stdout.write(`autumn reference listening on http://${address}:${port}\n`);
});
