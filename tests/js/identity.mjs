// The demo identify rule the quickstart and the reference servers share: who the caller is comes from
// the x-customer-id, x-customer-name and x-customer-email headers (no id: anonymous).

/** The request headers that make a server identify `identity` ({id, name, email}; null: anonymous). */
export const identityHeaders = (identity) => {
  const headers = {};
  if (!identity) return headers;
  if (identity.id !== undefined) headers["x-customer-id"] = identity.id;
  if (identity.name !== undefined) headers["x-customer-name"] = identity.name;
  if (identity.email !== undefined) headers["x-customer-email"] = identity.email;
  return headers;
};
