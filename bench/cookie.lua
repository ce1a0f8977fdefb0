-- GET the URL as a logged-in browser: sends the session cookie from BENCH_COOKIE
-- ("latchkey_session=<private value>", as bench/run.sh captured it at login).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.headers["Cookie"] = common.env("BENCH_COOKIE")
wrk.headers["User-Agent"] = common.user_agent
