-- Helpers shared by the wrk scripts (loaded with dofile from the script's directory).
local M = {}

function M.urlencode(text)
  return (text:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

-- A typical browser User-Agent, so sessions carry one as real logins do.
M.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

function M.env(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error("bench: environment variable " .. name .. " is not set")
  end
  return value
end

return M
