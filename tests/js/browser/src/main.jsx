// A minimal billing page built only from autumn-js's public React API, for the end-to-end test.
//
// Query parameters: `backend` (our server's base URL), `customer`, `name`, `email` (the demo
// identity headers the quickstart's identify hook reads; no `customer` = anonymous visitor).
import { createRoot } from "react-dom/client";
import { AutumnProvider, useCustomer, useListPlans } from "autumn-js/react";

const query = new URLSearchParams(window.location.search);
const identity = {};
if (query.get("customer")) {
  identity["x-customer-id"] = query.get("customer");
  if (query.get("name")) identity["x-customer-name"] = query.get("name");
  if (query.get("email")) identity["x-customer-email"] = query.get("email");
}

function Customer() {
  const { data: customer, error, isLoading, attach } = useCustomer();
  if (isLoading) return <p data-testid="customer-loading">Loading customer...</p>;
  if (error) {
    return (
      <p data-testid="customer-error">
        {error.code} {error.statusCode}
      </p>
    );
  }
  if (!customer) return <p data-testid="customer-none">No customer</p>;
  return (
    <section data-testid="customer">
      <h2 data-testid="customer-name">{customer.name}</h2>
      <p data-testid="customer-email">{customer.email}</p>
      <ul data-testid="balances">
        {Object.entries(customer.balances ?? {}).map(([featureId, balance]) => (
          <li key={featureId} data-testid={`balance-${featureId}`}>
            {featureId}: {balance.remaining} of {balance.granted}
          </li>
        ))}
      </ul>
      <Plans onAttach={(planId) => attach({ planId })} />
    </section>
  );
}

function Plans({ onAttach }) {
  const { data: plans, error, isLoading } = useListPlans();
  if (isLoading) return <p data-testid="plans-loading">Loading plans...</p>;
  if (error) return <p data-testid="plans-error">{error.code}</p>;
  return (
    <ul data-testid="plans">
      {plans.map((plan) => (
        <li key={plan.id} data-testid={`plan-${plan.id}`}>
          <span data-testid="plan-name">{plan.name}</span>
          {onAttach && (
            <button type="button" data-testid={`attach-${plan.id}`} onClick={() => onAttach(plan.id)}>
              Attach {plan.id}
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}

function App() {
  return (
    <AutumnProvider backendUrl={query.get("backend") ?? undefined} headers={identity}>
      <h1>Billing</h1>
      <Customer />
      {!query.get("customer") && <Plans />}
    </AutumnProvider>
  );
}

createRoot(document.getElementById("root")).render(<App />);
