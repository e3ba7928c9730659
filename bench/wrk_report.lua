-- wrk_report.lua -- W9's wrk script: no per-request work (no request or
-- response function, so wrk's speed is unchanged); at the end, one line with
-- what bench/run reads: the responses counted, the run's length and the p99
-- latency (microseconds), and the errors (status: non-2xx/3xx responses).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk requests=%d duration_us=%d p99_us=%d errors connect=%d read=%d write=%d status=%d timeout=%d\n",
                         summary.requests, summary.duration, latency:percentile(99), e.connect, e.read, e.write,
                         e.status, e.timeout))
end
