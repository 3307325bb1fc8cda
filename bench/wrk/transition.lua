-- Transitions: stories flip between draft and in_review (submit, request_changes), each write
-- naming the version it read in If-Match and asking for no body back (Prefer: return=minimal),
-- as a script does. A thread goes round its own thousands of stories, so each story's previous
-- write was answered long before its next: the thread counts each one as done when it sends it,
-- and a 412 (counted as non-2xx) would mean a lost or doubled write.
dofile(os.getenv("WD_BENCH") .. "/wrk/common.lua")

local ids = {}
local state = {}
local version = {}

-- A line is a story id (a new draft at version 1), or "id state version" for stories that have
-- moved since they were seeded.
function init(args)
  for _, line in ipairs(loadIds()) do
    local id, s, v = line:match("^(%S+) (%S+) (%d+)$")
    id = id or line
    ids[#ids + 1] = id
    state[id] = s or "draft"
    version[id] = tonumber(v) or 1
  end
end

local i = 0
-- wrk calls request() once on the first thread's state to check the request, and never sends
-- it: that call must not count a transition as done.
local checked = false
function request()
  if threadIndex == 0 and not checked then
    checked = true
    return wrk.format("POST", "/v1/stories/" .. ids[1] .. "/transitions", headers(), "{}")
  end
  i = i % #ids + 1
  local id = ids[i]
  local body
  if state[id] == "draft" then
    body = '{"transition":"submit"}'
    state[id] = "in_review"
  else
    body = '{"transition":"request_changes","reason":"bench: back to the reporter"}'
    state[id] = "draft"
  end
  local ifMatch = '"' .. version[id] .. '"'
  version[id] = version[id] + 1
  return wrk.format("POST", "/v1/stories/" .. id .. "/transitions",
    headers({ ["Content-Type"] = "application/json", ["If-Match"] = ifMatch, ["Prefer"] = "return=minimal" }), body)
end
