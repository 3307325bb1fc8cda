-- Reads of a story by id.
dofile(os.getenv("WD_BENCH") .. "/wrk/common.lua")

local ids
function init(args) ids = loadIds() end

local i = 0
function request()
  i = i % #ids + 1
  return wrk.format("GET", "/v1/stories/" .. ids[i], headers())
end
