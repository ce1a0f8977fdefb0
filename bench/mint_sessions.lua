-- Mints sessions by real API logins (POST /api/v1/auth_session/login: argon2id verify,
-- new session, Set-Cookie), cycling through BENCH_USER_COUNT accounts named by
-- BENCH_EMAIL_PATTERN (a string.format pattern taking 0..count-1), and appends each
-- session cookie ("latchkey_session=<value>") to BENCH_COOKIE_FILE. Stops once
-- BENCH_SESSIONS cookies are written (a few more may arrive from requests in flight).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

local users = tonumber(common.env("BENCH_USER_COUNT"))
local pattern = common.env("BENCH_EMAIL_PATTERN")
local wanted = tonumber(common.env("BENCH_SESSIONS"))
local password = common.urlencode(common.env("BENCH_PASSWORD"))
local out = assert(io.open(common.env("BENCH_COOKIE_FILE"), "a"))
local sent, got = 0, 0

function request()
  local email = string.format(pattern, sent % users)
  sent = sent + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["User-Agent"] = common.user_agent,
  }, "email=" .. common.urlencode(email) .. "&password=" .. password)
end

function response(status, headers, body)
  if status ~= 200 then
    return
  end
  for name, value in pairs(headers) do
    if string.lower(name) == "set-cookie" then
      local cookie = string.match(value, "^(latchkey_session=[^;]+)")
      if cookie then
        out:write(cookie, "\n")
        out:flush()
        got = got + 1
      end
    end
  end
  if got >= wanted then
    wrk.thread:stop()
  end
end
