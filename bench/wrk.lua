-- POST a JSON body with headers from the environment; print latency percentiles as JSON at the end.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or '{"text": "hello"}'
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("BENCH_KEY")
if key then wrk.headers["x-api-key"] = key end
local cc = os.getenv("BENCH_CACHE_CONTROL")
if cc then wrk.headers["Cache-Control"] = cc end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, ' ..
    '"timeouts": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
