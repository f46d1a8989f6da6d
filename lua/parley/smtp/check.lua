--- Checking SMTP replies for the session: what `expect=` means (codes, classes, patterns,
-- functions, alternatives; true the command's usual success, false a refusal), reading a reply
-- and failing with the message every protocol gives (parley.session), and running a command.
-- @module parley.smtp.check

local parley = require "parley"
local core = require "parley.core"
local session = require "parley.session"

local M = {}

-- The bindings' own send: `conn:send` looks the method up through the connection's __index
-- (a C call) on every command.
local send, read_reply = parley.conn_methods.send, parley.conn_methods.read_reply
local read, settle, clock = session.read, session.settle, parley.clock
local received, on_handlers = core.received, core.on_handlers

-- The success/failure words of `expect=` (the same in every protocol): true is the command's
-- usual success, false any refusal (4xx or 5xx).
local REFUSAL = { "4xx", "5xx" }
local function resolve(spec, default)
  if spec == true then return default end
  if spec == false then return REFUSAL end
  return spec
end

-- "expected X or Y" for a spec as expect takes it.
local function describe(spec)
  if type(spec) == "table" and getmetatable(spec) == nil then
    local parts = {}
    for _, alt in ipairs(spec) do
      parts[#parts + 1] = describe(type(alt) == "table" and alt[1] or alt)
    end
    return table.concat(parts, " or ")
  end
  local _, desc = core.matcher(spec)
  return desc
end

-- Whether a reply matches a spec as expect takes it (alternatives included).
local function matches(spec, r)
  if type(spec) == "table" and getmetatable(spec) == nil then
    for _, a in ipairs(spec) do
      if matches(type(a) == "table" and a[1] or a, r) then return true end
    end
    return false
  end
  return core.matcher(spec)(r) and true or false
end

local function refuse(s, what, spec, r)
  session.refuse(s, what, describe(spec), r, core.show_reply(r))
end

-- The tests of the replies the commands usually want, and their descriptions, made once (a
-- load test checks thousands of replies a second).
local USUAL_MATCH, USUAL_DESC = {}, {}
for _, spec in ipairs { 220, 221, 235, 250, 354, "2xx" } do
  USUAL_MATCH[spec], USUAL_DESC[spec] = core.scalar_match(spec)
end
-- What those tests test, for check to test it without a call: the code wanted (the number
-- specs), or the class (USUAL_CLASS, "2xx": code // 100 == 2, as core.matcher's test).
local USUAL_CODE = { [220] = 220, [221] = 221, [235] = 235, [250] = 250, [354] = 354 }
local USUAL_CLASS = { ["2xx"] = 2 }

-- check with alternatives (a table, a function, `pre`): through c:expect. Apart from check,
-- whose locals its closures would otherwise capture: a function with captured locals closes
-- them on every return, the usual one's too.
local function check_alternatives(s, what, spec, timeout, pre)
  if spec == false then spec = REFUSAL end
  local alts, failed = {}, nil
  for _, a in ipairs(pre or {}) do alts[#alts + 1] = a end
  if type(spec) == "table" and getmetatable(spec) == nil then
    for _, a in ipairs(spec) do alts[#alts + 1] = type(a) == "table" and a or { a } end
    alts.timeout, alts.eof = spec.timeout, spec.eof
  else
    alts[#alts + 1] = { spec }
  end
  if alts.timeout == nil then
    alts.timeout = function() session.timed_out(s, what, describe(spec), timeout) end
  end
  if alts.eof == nil then alts.eof = function() session.closed(s, what, describe(spec)) end end
  alts[#alts + 1] = { function() return true end, function(r) failed = r end }
  local results = table.pack(s.conn:expect(alts, timeout))
  if failed then refuse(s, what, spec, failed) end
  return table.unpack(results, 1, results.n)
end

-- Reads one reply for `what` and checks it against `spec` (as c:expect takes it). `pre` are
-- alternatives tried first (the AUTH continuation). A reply matching nothing fails with a
-- message naming the command.
local function check(s, what, spec, timeout, pre)
  if pre == nil then
    -- The usual case (one code or class): no alternatives to build for c:expect.
    local match = USUAL_MATCH[spec]
    if match then
      -- session.read and core.receive, written out: two calls less for every reply. (The
      -- clock is read as receive reads it: for the time waited, should nothing come.)
      local conn = s.conn
      local started = clock()
      local r, why = read_reply(conn, timeout)
      if r == nil then
        return settle(s, what, timeout, USUAL_DESC[spec], match, nil, why, clock() - started)
      end
      if parley.options.strict or on_handlers[conn] ~= nil then
        local more
        r, why, more = received(conn, r)
        if why == nil and match(r) then return r end
        return settle(s, what, timeout, USUAL_DESC[spec], match, r, why, more)
      end
      -- match(r), written out (r is as read_reply made it: its code an integer or nil; the code
      -- is held in why, which is nil here)
      why = r.code
      if why ~= nil and (why == USUAL_CODE[spec] or why // 100 == USUAL_CLASS[spec]) then
        return r
      end
      return settle(s, what, timeout, USUAL_DESC[spec], match, r, nil, nil)
    end
    if spec == false then spec = REFUSAL end
    local desc
    match, desc = core.scalar_match(spec)
    if match then return read(s, what, timeout, desc, match) end
  end
  return check_alternatives(s, what, spec, timeout, pre)
end

-- Any reply at all (handlers installed with `on` and --strict still apply).
local function read_any(s, timeout, what)
  return read(s, what or s.conn.last_command or "reply", timeout, "a reply")
end

-- Sends `line`, then checks the reply against `opts.expect` (default: `default`). `opts` may
-- be nil. (c:send sets c.last_command to the line's verb.)
local function run(s, line, default, opts)
  send(s.conn, line)
  if opts == nil then return check(s, line, default) end
  local spec = opts.expect
  if spec == nil then spec = default end
  return check(s, opts.what or line, resolve(spec, default), opts.timeout)
end

M.REFUSAL = REFUSAL
M.resolve = resolve
M.describe = describe
M.matches = matches
M.refuse = refuse
M.check = check
M.read_any = read_any
M.run = run

return M
