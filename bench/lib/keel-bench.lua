-- The Lua side of one wrk run of bench/serving (bench/lib/wrk.ts runs it).
-- POSTs the bodies of a file (one JSON per line) in turn, starting at a given index so that
-- consecutive rounds continue the rotation, then prints a summary line and the latency
-- histogram (µs value, count), so the bench merges rounds exactly instead of averaging
-- percentiles. The histogram is read from wrk's stats struct through LuaJIT's FFI in one pass:
-- wrk's own accessor rescans from the smallest value on every call, which cost seconds of wrk's
-- CPU (counted as the load generator's) on long tails. The struct's layout is checked against
-- what wrk reports, and the slow accessor is the fallback.
local ffiOk, ffi = pcall(require, "ffi")
if ffiOk then
  ffi.cdef [[ typedef struct { uint64_t count; uint64_t limit; uint64_t min; uint64_t max; uint64_t data[]; } keel_wrk_stats; ]]
end

local bodies, n, nextIndex, path = {}, 0, 0, "/"

function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  n = #bodies
  path = args[2]
  nextIndex = tonumber(args[3])
  if args[4] ~= "" then wrk.headers["authorization"] = "Bearer " .. args[4] end
  wrk.headers["content-type"] = "application/json"
end

function request()
  local body = bodies[(nextIndex % n) + 1]
  nextIndex = nextIndex + 1
  return wrk.format("POST", path, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write("KEEL-WRK ", summary.requests, " ", summary.duration, " ", e.status, " ",
    e.connect + e.read + e.write + e.timeout, "\n")
  local s = ffiOk and ffi.cast("keel_wrk_stats**", latency)[0]
  if s and tonumber(s.min) == latency.min and tonumber(s.max) == latency.max then
    for v = tonumber(s.min), tonumber(s.max) do
      local count = tonumber(s.data[v])
      if count > 0 then io.write(v, " ", count, "\n") end
    end
  else
    for i = 1, #latency do
      local value, count = latency(i)
      io.write(value, " ", count, "\n")
    end
  end
end
