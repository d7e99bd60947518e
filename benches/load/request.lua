-- wrk script of the load comparison: the autumn-js client's POST with the quickstart's identity
-- headers, and one machine-readable summary line at the end.
--
-- Environment: BODY (the JSON body, default {"errorOnNotFound":false}).

wrk.method = "POST"
wrk.body = os.getenv("BODY") or '{"errorOnNotFound":false}'
wrk.headers["content-type"] = "application/json"
wrk.headers["x-customer-id"] = "cus_load_0001"
wrk.headers["x-customer-name"] = "Ada Lovelace"
wrk.headers["x-customer-email"] = "ada@example.com"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
