// What the Node drivers (differential.mjs, offline.mjs, legacy/differential.mjs) share: output, the
// environment, the demo identify rule's headers, the fake Autumn's control API, JSON display, and a
// call through autumn-js's browser client.

export const out = (line = "") => process.stdout.write(`${line}\n`);

/** The environment variable `name`; exits with status 2, naming `tool`, when it is not set. */
export const env = (name, tool) => {
  const value = process.env[name];
  if (!value) {
    out(`${tool}: environment variable ${name} is required`);
    process.exit(2);
  }
  return value;
};

/**
 * The request headers that make a server identify `identity` ({id, name, email}; null: anonymous),
 * by the demo identify rule the quickstart and the reference servers share.
 */
export const identityHeaders = (identity) => {
  const headers = {};
  if (!identity) return headers;
  if (identity.id !== undefined) headers["x-customer-id"] = identity.id;
  if (identity.name !== undefined) headers["x-customer-name"] = identity.name;
  if (identity.email !== undefined) headers["x-customer-email"] = identity.email;
  return headers;
};

/** The control API of a fake Autumn at `fakeUrl` (`/__fake/reset`, `/__fake/script`, ...). */
export const fakeControl = (fakeUrl) => async (method, what, body) => {
  const response = await fetch(`${fakeUrl}/__fake/${what}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`fake control ${what}: ${response.status} ${await response.text()}`);
  return response.json();
};

export const typeOf = (v) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/** JSON text of `value`, cut at `limit` characters. */
export const show = (value, limit = 1500) => {
  const text = JSON.stringify(value);
  if (text === undefined) return "(absent)";
  return text.length > limit ? `${text.slice(0, limit)}... (${text.length} chars)` : text;
};

/**
 * Case `c` ({route, params?, identity, headers?}) through an autumn-js >= 1.0 browser client made by
 * `createAutumnClient` for the server at `baseUrl`: the value, or the AutumnClientError's fields.
 */
export const runClient = async (createAutumnClient, baseUrl, c) => {
  const client = createAutumnClient({
    backendUrl: baseUrl,
    pathPrefix: "/api/autumn",
    headers: { ...identityHeaders(c.identity), ...(c.headers ?? {}) },
  });
  try {
    const value = "params" in c ? await client[c.route](c.params) : await client[c.route]();
    return { ok: true, value };
  } catch (error) {
    return { ok: false, statusCode: error.statusCode, code: error.code, message: error.message };
  }
};
