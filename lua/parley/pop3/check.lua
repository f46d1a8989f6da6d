--- Checking POP3 replies for the session: what `expect=` means (`+OK`, `-ERR`, true, false,
-- a Lua pattern on the status line, a function, an array), reading a response and failing with
-- the message every protocol gives (parley.session), running a command, and the checks of
-- command arguments. Part of parley.pop3.
-- @module parley.pop3.check

local parley = require "parley"
local session = require "parley.session"

local M = {}

local function misuse(msg)
  parley.raise(2, "script", msg)
end

-- A matcher and its description for a POP3 expectation.
local function matcher(spec)
  if spec == nil or spec == true or spec == "+OK" or spec == "ok" or spec == "OK" then
    return function(r) return r.status == "+OK" end, "+OK"
  elseif spec == false or spec == "-ERR" or spec == "err" or spec == "ERR" then
    return function(r) return r.status == "-ERR" end, "-ERR"
  elseif spec == "+" then
    return function(r) return r.status == "+" end, "a \"+\" continuation"
  elseif type(spec) == "function" then
    return spec, "a reply the script's test accepts"
  elseif type(spec) == "string" then
    local ok, err = pcall(string.find, "", spec)
    if not ok then misuse("pop3: bad pattern " .. string.format("%q", spec) .. ": " .. tostring(err)) end
    return function(r) return (r.text or ""):find(spec) ~= nil end, "pattern " .. string.format("%q", spec)
  elseif type(spec) == "table" then
    local ms, ds = {}, {}
    for i, s in ipairs(spec) do ms[i], ds[i] = matcher(s) end
    return function(r)
      for _, m in ipairs(ms) do if m(r) then return true end end
      return false
    end, table.concat(ds, " or ")
  end
  misuse("pop3: cannot expect a " .. type(spec))
end

local function refuse(s, what, desc, r)
  session.refuse(s, what, desc, r)
end

-- Reads one response for `what` (handlers from `on` and --strict apply).
local function read(s, what, timeout)
  return session.read(s, what, timeout, "a response")
end

local function check(s, what, spec, r)
  local m, desc = matcher(spec)
  if not m(r) then refuse(s, what, desc, r) end
  return r
end

-- Sends a command and checks the response. `block`: a multi-line response follows +OK.
local function run(s, line, opts, block)
  opts = opts or {}
  local what = opts.what or line
  if block then s.conn:want_block() end
  s.conn:send(line)
  local r = read(s, what, opts.timeout)
  return check(s, what, opts.expect, r)
end

-- A copy of the options with the command's description for messages.
local function with_what(opts, what)
  local t = {}
  for k, v in pairs(opts or {}) do t[k] = v end
  t.what = what
  return t
end

local function number(n, what)
  local v = math.tointeger(tonumber(n))
  if not v or v < 1 then misuse(what .. ": a message number from 1 up is needed, not " .. tostring(n)) end
  return v
end

local function argument(v, what)
  v = tostring(v)
  if v:find("%c") then misuse(what .. ": the argument holds a CR, LF or other control character; refused") end
  return v
end

-- "+OK 2 320" -> the numbers after the status.
local function ok_numbers(r)
  local a, b = (r.text or ""):match("^%+OK%s+(%d+)%s+(%d+)")
  return tonumber(a), tonumber(b)
end

M.misuse = misuse
M.matcher = matcher
M.read = read
M.check = check
M.run = run
M.with_what = with_what
M.number = number
M.argument = argument
M.ok_numbers = ok_numbers

return M
