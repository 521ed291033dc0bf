-- wrk script for the benchmark's form POSTs (bench/run, bench/scale).
--
--   wrk ... -s bench/post.lua -H 'Cookie: a=1; b=2' URL -- BODY [unique-color]
--
--   BODY          form fields sent with every request, already url-encoded, without a leading
--                 or trailing '&' (e.g. "csrf_token=T&username=benchuser&password=bench-kettle-7Qx9-lantern");
--                 may be "" when only the color is sent
--   unique-color  also send color=%23rrggbb with a value that changes on every request, so a
--                 store that skips unchanged values cannot skip the write
--
-- Every request answered with anything but a 3xx is counted by status; when wrk finishes the
-- script prints one line the harness parses:
--   non-3xx: N (403=2 500=1)        or        non-3xx: 0
-- Cookies are not handled here: pass them with wrk -H 'Cookie: ...' (wrk ignores Set-Cookie).

local all_threads = {}

function setup(thread)
  thread:set("thread_no", #all_threads)
  table.insert(all_threads, thread)
end

local fixed = ""       -- the constant part of the body
local unique = false   -- append a changing color?
local cached           -- the whole request, when nothing changes between requests
local step = 0         -- requests sent by this thread
local start = 0        -- where this thread's colors begin
bad = 0                -- non-3xx responses of this thread (global: read back in done())
statuses = ""          -- "403=2 500=1": filled in at the end of the thread's run
local seen = {}

function init(args)
  fixed = args[1] or ""
  unique = args[2] == "unique-color"
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  -- threads start far apart in the 2^24 colors so that two threads never send the same run
  start = ((thread_no or 0) * 5000011) % 16777216
  if not unique then
    cached = wrk.format(nil, nil, nil, fixed)
  end
end

function request()
  if cached then
    return cached
  end
  step = step + 1
  -- an odd multiplier visits all 2^24 values before repeating, and neighbours differ a lot
  local v = (start + step * 2654435761) % 16777216
  local color = string.format("color=%%23%06x", v)
  if fixed ~= "" then
    color = fixed .. "&" .. color
  end
  return wrk.format(nil, nil, nil, color)
end

function response(status, headers, body)
  if status < 300 or status > 399 then
    bad = bad + 1
    seen[status] = (seen[status] or 0) + 1
    local parts = {}
    for code, count in pairs(seen) do
      table.insert(parts, code .. "=" .. count)
    end
    table.sort(parts)
    statuses = table.concat(parts, " ")
  end
end

function done(summary, latency, requests)
  local total, parts = 0, {}
  for _, thread in ipairs(all_threads) do
    total = total + (tonumber(thread:get("bad")) or 0)
    local s = thread:get("statuses")
    if s and s ~= "" then
      table.insert(parts, s)
    end
  end
  if total > 0 then
    io.write(string.format("non-3xx: %d (%s)\n", total, table.concat(parts, " ")))
  else
    io.write("non-3xx: 0\n")
  end
end
