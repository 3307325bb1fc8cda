-- Shared by the wrk scripts: the bearer token, the seeded story ids, a JSON summary at the end.
-- Each thread gets its own slice of the ids (wrk runs one Lua state per thread), so no two
-- threads write to the same story.

token = os.getenv("WD_TOKEN")
local idsFile = os.getenv("WD_IDS")
local threadCount = tonumber(os.getenv("WD_THREADS") or "1")

local counter = 0
function setup(thread)
  thread:set("threadIndex", counter)
  counter = counter + 1
end

function loadIds()
  local ids = {}
  local n = 0
  for line in io.lines(idsFile) do
    if n % threadCount == threadIndex then
      ids[#ids + 1] = line
    end
    n = n + 1
  end
  -- Shuffle so that every run touches stories in a different order.
  math.randomseed(os.time() + threadIndex)
  for i = #ids, 2, -1 do
    local j = math.random(i)
    ids[i], ids[j] = ids[j], ids[i]
  end
  return ids
end

function headers(extra)
  local h = { ["Authorization"] = "Bearer " .. token }
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
