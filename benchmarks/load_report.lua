-- wrk script of benchmarks/load.py: counts the answers that are not 2xx (per status code) in
-- every thread, and prints one line "LOAD-REPORT {json}" at the end with the request count,
-- the duration, the latency percentiles (microseconds), wrk's socket errors and those counts.
--   wrk -t2 -c8 -d8s --timeout 30s -s benchmarks/load_report.lua -H "Cookie: ..." URL

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- per-thread state (each wrk thread runs its own copy of this script)
non2xx = 0
statuses = ""
local counts = {}

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    counts[status] = (counts[status] or 0) + 1
    local parts = {}
    for code, n in pairs(counts) do
      table.insert(parts, code .. ":" .. n)
    end
    statuses = table.concat(parts, ",")
  end
end

function done(summary, latency, requests)
  local total_non2xx = 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    total_non2xx = total_non2xx + thread:get("non2xx")
    for code, n in string.gmatch(thread:get("statuses"), "(%d+):(%d+)") do
      by_status[code] = (by_status[code] or 0) + tonumber(n)
    end
  end
  local parts = {}
  for code, n in pairs(by_status) do
    table.insert(parts, string.format('"%s": %d', code, n))
  end
  local errors = summary.errors
  io.write(string.format(
    'LOAD-REPORT {"requests": %d, "duration_us": %d, "non2xx": %d, "statuses": {%s}, ' ..
    '"p50_us": %.0f, "p95_us": %.0f, "p99_us": %.0f, "max_us": %.0f, "mean_us": %.0f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, total_non2xx, table.concat(parts, ", "),
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean, errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
