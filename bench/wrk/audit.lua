-- Auditors' reads, one kind at a time: WD_PATHS holds request paths of one kind (a story's
-- history, or /v1/audit with one set of filters) over different stories, actors and times; the
-- single client goes round them.
dofile(os.getenv("WD_BENCH") .. "/wrk/common.lua")

local paths = {}

function init(args)
  for line in io.lines(os.getenv("WD_PATHS")) do paths[#paths + 1] = line end
end

local i = 0
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], headers())
end
