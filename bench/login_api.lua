-- POST /api/v1/auth_session/login with form fields, over and over: every request is a
-- full login (argon2id verify, new session, Set-Cookie). 200 = valid login; wrk counts
-- anything else under "Non-2xx or 3xx responses".
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["User-Agent"] = common.user_agent
wrk.body = "email=" .. common.urlencode(common.env("BENCH_EMAIL"))
  .. "&password=" .. common.urlencode(common.env("BENCH_PASSWORD"))
