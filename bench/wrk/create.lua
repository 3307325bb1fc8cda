-- Creates: the Almaty story document, again and again.
dofile(os.getenv("WD_BENCH") .. "/wrk/common.lua")

local body
function init(args)
  local file = io.open(os.getenv("WD_STORY"), "rb")
  body = file:read("*a")
  file:close()
end

function request()
  return wrk.format("POST", "/v1/stories", headers({ ["Content-Type"] = "application/json" }), body)
end
