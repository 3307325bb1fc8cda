-- The newest page of 50 stories, as a desk's queue asks for it.
dofile(os.getenv("WD_BENCH") .. "/wrk/common.lua")

function request()
  return wrk.format("GET", "/v1/stories?limit=50", headers())
end
