-- wrk script: a fixed User-Agent (the session is bound to it) and a JSON summary line.
wrk.headers["User-Agent"] = "crm-bench"
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
                 + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'JSON {"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, ' ..
    '"p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
