-- POST /login as the HTML form does: the anonymous CSRF token in a hidden field plus its
-- `latchkey_csrf` cookie (scraped once from GET /login by bench/run.sh; the signed token
-- stays valid for two hours, so every request may reuse it). 303 = valid login.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(dir .. "common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["User-Agent"] = common.user_agent
wrk.headers["Cookie"] = common.env("BENCH_CSRF_COOKIE")
wrk.body = "email=" .. common.urlencode(common.env("BENCH_EMAIL"))
  .. "&password=" .. common.urlencode(common.env("BENCH_PASSWORD"))
  .. "&csrf_token=" .. common.urlencode(common.env("BENCH_CSRF_TOKEN"))
