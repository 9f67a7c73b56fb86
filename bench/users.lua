-- wrk script for the users API load benchmark (see run-users.sh).
-- Environment:
--   BENCH_KEY     API key sent as "Authorization: Bearer KEY" (optional)
--   BENCH_MODE    "id": GET /api/v1/admin/users/{random id}; "list": the path as given
--   BENCH_MIN_ID  BENCH_MAX_ID  the id range for "id"
-- done() prints one machine-readable RESULT line.

local key = os.getenv("BENCH_KEY")
local mode = os.getenv("BENCH_MODE") or "list"
local lo = tonumber(os.getenv("BENCH_MIN_ID") or "1")
local hi = tonumber(os.getenv("BENCH_MAX_ID") or "1")
local threads = {}
local counter = 0

if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 100 + seed)
  ok, bad = 0, 0
end

function request()
  if mode == "id" then
    return wrk.format("GET", "/api/v1/admin/users/" .. math.random(lo, hi))
  end
  return wrk.format("GET")
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local good, notok = 0, 0
  for _, t in ipairs(threads) do
    good = good + t:get("ok")
    notok = notok + t:get("bad")
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f ok=%d not_ok=%d socket_errors=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    good, notok, e.connect + e.read + e.write + e.timeout))
end
