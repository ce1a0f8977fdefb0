-- GET the URL as many logged-in browsers: each request carries the next session cookie
-- from BENCH_COOKIE_FILE (one "latchkey_session=<private value>" a line, minted by real
-- logins; see mint_sessions.lua), round-robin. Without BENCH_COOKIE_FILE every request
-- is the same cookie-less GET. Requests are formatted once, in init, so the client does
-- the same small amount of work per request whichever URL it measures.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local requests = {}
local next_index = 1

function init(args)
  local file = os.getenv("BENCH_COOKIE_FILE")
  if file ~= nil and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then
        requests[#requests + 1] = wrk.format("GET", wrk.path,
          { ["Cookie"] = line, ["User-Agent"] = common.user_agent })
      end
    end
    if #requests == 0 then
      error("bench: no cookies in " .. file)
    end
  else
    requests[1] = wrk.format("GET", wrk.path, { ["User-Agent"] = common.user_agent })
  end
end

function request()
  local formatted = requests[next_index]
  next_index = next_index % #requests + 1
  return formatted
end
