-- Transitions: stories flip between draft and in_review (submit, request_changes), each write
-- naming the version it read in If-Match. Each thread tracks the state and version of its own
-- stories from the responses, so a 412 here would mean a lost or doubled write.
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
function request()
  i = i % #ids + 1
  local id = ids[i]
  local body
  if state[id] == "draft" then
    body = '{"transition":"submit"}'
  else
    body = '{"transition":"request_changes","reason":"bench: back to the reporter"}'
  end
  return wrk.format("POST", "/v1/stories/" .. id .. "/transitions",
    headers({ ["Content-Type"] = "application/json", ["If-Match"] = '"' .. version[id] .. '"' }), body)
end

function response(status, headers, body)
  if status == 200 then
    local id = body:match('"id":"([%x%-]+)"')
    if id then
      state[id] = body:match('"state":"([%a_]+)"')
      version[id] = tonumber(body:match('"version":(%d+)'))
    end
  end
end
