--- The Lua half of parley's core: `expect` and `on` for every connection.
-- Reading and framing are C++; matching a reply against what the script wants, and saying
-- clearly what went wrong when it does not match, is here.
-- @module parley.core

local parley = require "parley"
local methods = parley.conn_methods

local M = {}

--- Patterns are matched on at most this many bytes of a reply's text, so that a hostile reply
-- cannot make a pattern backtrack for minutes.
M.PATTERN_SUBJECT_MAX = 64 * 1024

local function codes()
  local ok, mod = pcall(require, "parley.codes")
  return ok and mod or nil
end

--- A matcher for one expectation: a code (250 or "250"), a class ("2xx", "25x"), a function
-- taking the reply, or any other string as a Lua pattern on the reply's text.
-- @return function(reply) -> boolean, and a description for failure messages
function M.matcher(spec)
  local kind = type(spec)
  if kind == "number" then
    return function(r) return r.code == spec end, tostring(spec)
  elseif kind == "string" then
    if spec:match("^%d%d%d$") then
      local n = tonumber(spec)
      return function(r) return r.code == n end, spec
    end
    if spec:match("^[1-5][0-9x]x$") then
      -- "2xx": code // 100 == 2; "25x": code // 10 == 25 (arithmetic: no string per reply)
      local prefix = spec:gsub("x", "")
      local want, div = tonumber(prefix), #prefix == 1 and 100 or 10
      return function(r)
        local code = r.code
        return code ~= nil and code // div == want
      end, spec
    end
    local ok, err = pcall(string.find, "", spec)
    if not ok then
      parley.raise(2, "script", "expect: bad pattern " .. string.format("%q", spec) .. ": " .. tostring(err))
    end
    local find, sub = string.find, string.sub
    return function(r)
      -- No local for the text: a register less under the call of find (see methods:expect)
      if #(r.text or "") > M.PATTERN_SUBJECT_MAX then
        return find(sub(r.text, 1, M.PATTERN_SUBJECT_MAX), spec) ~= nil
      end
      return find(r.text or "", spec) ~= nil
    end, "pattern " .. string.format("%q", spec)
  elseif kind == "function" then
    return spec, "a reply the script's test accepts"
  end
  parley.raise(2, "script", "expect: cannot match on a " .. kind ..
    " (give a code like 250, a class like \"2xx\", or a Lua pattern)")
end

-- Alternatives of a plain code, class or pattern, made once: `expect(250)` in a loop (a load
-- test) need not build matchers again. Bounded: emptied when it holds too many.
local clock, read_reply = parley.clock, methods.read_reply
local scalar_alts, scalar_count = {}, 0
-- Handlers installed with `on`, by connection (kept here rather than as a field of the
-- connection: every expect looks them up, and a field lookup on a connection goes through C).
local on_handlers = setmetatable({}, { __mode = "k" })
local NO_OPTS = {}  -- read-only

-- The alternatives of a plain code, class or pattern (a number or a string), from the cache.
local function scalar_alternatives(spec)
  local cached = scalar_alts[spec]
  if cached then return cached end
  local m, d = M.matcher(spec)
  cached = { { match = m, desc = d } }
  if spec ~= spec then return cached end  -- NaN: no key
  if scalar_count >= 256 then scalar_alts, scalar_count = {}, 0 end
  scalar_alts[spec], scalar_count = cached, scalar_count + 1
  return cached
end

-- Turns what expect was given into a list of alternatives and the timeout/eof branches.
local function alternatives(spec)
  local cached = spec ~= nil and scalar_alts[spec]
  if cached then return cached, NO_OPTS end
  local kind = type(spec)
  if kind == "number" or kind == "string" then return scalar_alternatives(spec), NO_OPTS end
  local alts, opts = {}, {}
  if type(spec) == "table" and getmetatable(spec) == nil then
    for _, alt in ipairs(spec) do
      local match, fn = alt, nil
      if type(alt) == "table" then match, fn = alt[1], alt[2] end
      local m, d = M.matcher(match)
      alts[#alts + 1] = { match = m, desc = d, fn = fn }
    end
    if type(spec.timeout) == "function" then
      opts.on_timeout = spec.timeout
    elseif type(spec.timeout) == "number" then
      opts.seconds = spec.timeout
    end
    opts.on_eof = spec.eof
    if #alts == 0 then parley.raise(2, "script", "expect: no alternative given") end
  else
    local m, d = M.matcher(spec)
    alts[1] = { match = m, desc = d }
  end
  return alts, opts
end

local function printable(bytes)
  return (bytes:gsub("[%c\127]", function(c)
    if c == "\r" then return "\\r" elseif c == "\n" then return "\\n" elseif c == "\t" then return c end
    return string.format("\\x%02x", c:byte())
  end))
end

--- A reply as one line for messages: "550 5.1.1 text" (and how many more lines).
function M.show_reply(r)
  local first = printable((r.lines and r.lines[1]) or r.text or "")
  local s = r.code and (r.code .. " " .. first) or first
  if r.lines and #r.lines > 1 then s = s .. string.format(" (+%d more lines)", #r.lines - 1) end
  return s
end


-- The ports where a server speaks TLS first (RFC 8314: 465; IMAPS 993, POP3S 995).
local IMPLICIT_TLS_PORTS = { [465] = true, [993] = true, [995] = true }

--- Why a plaintext client connection may have heard nothing: the port speaks TLS first.
-- Called when a wait timed out with nothing at all received. With `probe`, a short second
-- connection (shown in the transcript) tries a TLS handshake to tell for sure; without it,
-- only the well-known implicit-TLS ports get a hint.
-- @return a sentence to add to the failure message, or nil
function M.tls_first_hint(c, probe)
  if c.tls or c.server_side or not c.port or c.port == 0 or c.host == "" then return nil end
  if #c:last_bytes() > 0 then return nil end
  if probe then
    local ok, p = pcall(parley.connect, { host = c.host, port = c.port, tls = true,
      verify = false, timeout = math.min(2, (c.timeout or 2) / 2) })
    if ok then
      pcall(p.close, p)
      return "this port speaks TLS first: use tls=true (a TLS handshake on it succeeds; " ..
        "tls=\"implicit\" with parley.smtp, parley.pop3 and parley.imap)"
    end
  end
  if IMPLICIT_TLS_PORTS[c.port] then
    return "port " .. c.port .. " is an implicit-TLS port, where a server speaks TLS first: " ..
      "use tls=true"
  end
  return nil
end

local function wanted(alts)
  local parts = {}
  for i, a in ipairs(alts) do parts[i] = a.desc end
  return table.concat(parts, " or ")
end

local function fail_expect(c, alts, r, why, waited, seconds)
  local lines = {}
  local head = "expected " .. wanted(alts) .. ", "
  if r then
    head = head .. "got: " .. M.show_reply(r)
  elseif why == "timeout" then
    head = head .. string.format("but nothing came from %s within %g s", c.peer, seconds)
  elseif why == "eof" then
    head = head .. "but " .. c.peer .. " closed the connection"
  else
    head = head .. "but the connection was closed"
  end
  lines[1] = head
  local meaning = r and codes() and codes().meaning and codes().meaning(r)
  if meaning then lines[#lines + 1] = "  meaning: " .. meaning end
  local hint = not r and why == "timeout" and M.tls_first_hint(c, false)
  if hint then lines[#lines + 1] = "  " .. hint end
  lines[#lines + 1] = string.format("  waited %.3f s of the %g s timeout on connection %d to %s",
    waited, seconds, c.id, c.peer)
  local pending = c:pending()
  if not r and pending > 0 then
    lines[#lines + 1] = string.format("  an incomplete reply of %d bytes was received", pending)
  end
  local last = c:last_bytes()
  if #last > 0 then lines[#lines + 1] = '  last bytes received: "' .. printable(last) .. '"' end
  local kind = r and "expect" or (why == "timeout" and "timeout" or "eof")
  if r and r.code then
    -- The error object carries the reply's code too: parley load counts failures by code.
    local _, err = pcall(parley.raise, 1, kind, table.concat(lines, "\n"))
    err.code, err.enhanced = r.code, r.enhanced
    error(err, 0)
  end
  parley.raise(1, kind, table.concat(lines, "\n"))
end

local function strict_check(c, r)
  if not parley.options.strict then return end
  local problems = {}
  for _, v in ipairs(r.violations or {}) do problems[#problems + 1] = v end
  local cm = codes()
  if cm and cm.check_grammar and c.framing == "smtp" then
    for _, v in ipairs(cm.check_grammar(r, c.last_command) or {}) do problems[#problems + 1] = v end
  end
  if #problems > 0 then
    parley.raise(1, "protocol", "protocol violation (--strict) in reply \"" .. M.show_reply(r) ..
      "\" from " .. c.peer .. ": " .. table.concat(problems, "; "))
  end
end

--- The second half of `receive`, for a library that reads the reply `r` itself (with
-- read_reply and the clock, as receive does): the --strict check and the handlers installed
-- with `on`; needed only when `--strict` is on or `on_handlers[c]` holds any.
-- @return what receive returns for a reply
local function received(c, r)
  if parley.options.strict then strict_check(c, r) end
  local on = on_handlers[c]
  if on then
    for _, h in ipairs(on) do
      if h.match(r) then return r, "handled", table.pack(h.fn(r, c)) end
    end
  end
  return r
end
M.received = received

--- The reply-reading half of `expect`, for the protocol libraries' own checks (a command's
-- reply is read thousands of times a second in a load test; building the alternatives of
-- `expect` for each costs more than the read): reads the next reply, checks it under
-- --strict, and tries the handlers installed with `on`.
-- @return the reply; or the reply, "handled" and the results of the `on` handler that took
--   it (packed: `table.pack`); or nil, why ("timeout", "eof", ...) and the seconds waited.
--   Always at most three values, so that a caller takes them in locals (a vararg function to
--   take any number costs every read a copy of its arguments).
function M.receive(c, seconds)
  local started = clock()
  local r, why = read_reply(c, seconds)
  if not r then return nil, why, clock() - started end
  if parley.options.strict or on_handlers[c] then return received(c, r) end
  return r
end

--- The handlers installed with `on`, by connection (weak keys; read it, do not change it).
M.on_handlers = on_handlers

--- The test of a plain code, class or pattern and its description for failure messages
-- (made once per spec, as `expect` makes them), or nil for anything else (functions, tables).
function M.scalar_match(spec)
  local kind = type(spec)
  if kind ~= "number" and kind ~= "string" then return nil end
  local alt = alternatives(spec)[1]
  return alt.match, alt.desc
end

--- Fails the conversation as `expect` does when no reply came (`why` from `receive`).
function M.fail_read(c, desc, why, waited, seconds)
  fail_expect(c, { { desc = desc } }, nil, why, waited, seconds or c.timeout)
end

-- `expect` runs in every conversation of a load test and waits in most: what it holds while
-- waiting is memory per idle conversation, times ten thousand. So it builds nothing before the
-- wait (a table of alternatives is checked, then matched as it is once the reply is there; the
-- matchers of codes, classes and patterns come from the cache), and it keeps its frames small:
-- a C function (read_reply, type, a pattern's find) wants 20 free stack slots above its
-- arguments, and a call from deeper than the 40 slots a coroutine starts with doubles the
-- coroutine's stack for good (1.3 KB instead of 0.7). Hence the few locals, the while loops
-- (a for loop takes 3 more registers) and the tail calls below (`settle` and `no_reply` run in
-- expect's frame).

-- prepare's check of an alternative that is not cached, nor a function (the cache's misses).
local function check_alt(alt)
  local kind = type(alt)
  if kind == "number" or kind == "string" then
    scalar_alternatives(alt)
  else
    M.matcher(alt)  -- raises: it cannot be matched on
  end
end

-- Checks what expect was given before the wait, with the errors alternatives() raises, in the
-- same order, without building anything. Returns the seconds a table of alternatives gives
-- (`timeout = 5`), if any. Its calls of type() are the deepest C calls of a waiting expect:
-- they sit above two registers only (spec, and the kind or index i), the alternative itself
-- being fetched again rather than kept in a local.
local function prepare(spec)
  if spec ~= nil and scalar_alts[spec] then return nil end
  local i = type(spec)
  if i == "function" then return nil end
  if i ~= "table" or getmetatable(spec) ~= nil then
    alternatives(spec)  -- a code, class or pattern (cached now); anything else raises
    return nil
  end
  i = 1
  while spec[i] ~= nil do
    if type(spec[i]) ~= "table" then
      if scalar_alts[spec[i]] == nil and type(spec[i]) ~= "function" then check_alt(spec[i]) end
    elseif scalar_alts[spec[i][1]] == nil and type(spec[i][1]) ~= "function" then
      check_alt(spec[i][1])
    end
    i = i + 1
  end
  if i == 1 then parley.raise(2, "script", "expect: no alternative given") end
  if type(spec.timeout) == "number" then return spec.timeout end
  return nil
end

-- expect, once a reply came: the handlers installed with `on`, then the alternatives in order.
local function settle(self, spec, r, started, seconds)
  if parley.options.strict then strict_check(self, r) end
  do
    local on = on_handlers[self]
    if on then
      local i, h = 1, on[1]
      while h ~= nil do
        if h.match(r) then return h.fn(r, self) end
        i = i + 1
        h = on[i]
      end
    end
  end
  -- A code, class or pattern from the cache (prepare put it there): its test without a call of
  -- type() or scalar_alternatives. (One register for it and the branches below, as before.)
  local m = scalar_alts[spec]
  if m then
    if m[1].match(r) then return r end
  elseif type(spec) ~= "table" then
    m = spec
    if type(m) ~= "function" then m = scalar_alternatives(m)[1].match end
    if m(r) then return r end
  else
    local i = 1
    m = spec[1]
    while m ~= nil do
      if type(m) == "table" then m = m[1] end
      if type(m) ~= "function" then m = scalar_alternatives(m)[1].match end
      if m(r) then
        m = spec[i]
        if type(m) == "table" and m[2] then return m[2](r, self) end
        return r
      end
      i = i + 1
      m = spec[i]
    end
  end
  fail_expect(self, alternatives(spec), r, nil, clock() - started, seconds or self.timeout)
end

-- expect, when no reply came: the table's timeout or eof branch, else the failure.
local function no_reply(self, spec, why, started, seconds)
  local waited = clock() - started
  if type(spec) == "table" and getmetatable(spec) == nil then
    if why == "timeout" and type(spec.timeout) == "function" then return spec.timeout(self) end
    if why == "eof" and spec.eof then return spec.eof(self) end
  end
  fail_expect(self, alternatives(spec), nil, why, waited, seconds or self.timeout)
end

--- Reads the next reply and checks it against what the script expects.
-- `spec` is a code, a class, a pattern, a function, or a table of alternatives
-- `{ {match, fn}, ..., timeout = fn|seconds, eof = fn }`; the first that matches wins and its
-- function's results are expect's results (without a function, the reply). Handlers installed
-- with `on` are tried first. A reply that matches nothing fails the conversation (exit 1).
-- @param timeout optional seconds (or `{timeout=s}`): a deadline for the whole wait
function methods:expect(spec, timeout)
  local seconds = prepare(spec)
  if timeout == nil then
    -- the usual case: nothing to look at
  elseif type(timeout) == "number" then
    seconds = timeout
  elseif type(timeout) == "table" and timeout.timeout then
    seconds = timeout.timeout
  end
  local started = clock()
  local r, why = read_reply(self, seconds)  -- seconds nil: the connection's own timeout
  if r then return settle(self, spec, r, started, seconds) end
  return no_reply(self, spec, why, started, seconds)
end

-- From here on a connection finds its methods through a Lua __index, with the bindings' own
-- (l_index in src/script/bind_conn.cpp: the fields, the script's own fields, the message for a
-- misspelt name) behind it: a C metamethod, like any C function, wants 20 free stack slots,
-- and Lua calls a metamethod above the whole frame of the function asking (`c:expect` in a
-- step's function called l_index some 25 slots up its coroutine's stack, which doubled it).
do
  local meta = parley.conn_meta
  local fields = meta.__index
  meta.__index = function(c, k)
    local m = methods[k]
    if m ~= nil then return m end
    return fields(c, k)
  end
end

--- Installs a handler checked before every later `expect` on this connection (like Tcl's
-- expect_before): `c:on("421", function(r) fail("server is shutting down") end)`.
-- @return the connection
function methods:on(spec, fn)
  if type(fn) ~= "function" then parley.raise(2, "script", "on: a function is needed") end
  local m = M.matcher(spec)
  local list = on_handlers[self] or {}
  list[#list + 1] = { match = m, fn = fn }
  on_handlers[self] = list
  return self
end

--- Removes every handler installed with `on`.
function methods:off()
  on_handlers[self] = nil
  return self
end

--- The message of `require` for a module that does not exist (parley.prelude's require
-- raises it): the modules parley has, and the closest name, instead of every path searched.
-- `err` is the message of Lua's own require.
function M.module_not_found(name, err)
  local names = {}
  local seen = {}
  local function add(n)
    if type(n) == "string" and n:find("^parley%.") and not n:find("^parley%.mock%.") and
       n ~= "parley.testrun" and n ~= "parley.prelude" and not seen[n] then
      seen[n] = true
      names[#names + 1] = n
    end
  end
  -- package.parley_modules is parley's (made when first read: src/script/modules.cpp).
  for _, n in ipairs(package.parley_modules or {}) do add(n) end  -- luacheck: ignore 143
  for n in pairs(package.preload) do add(n) end
  for n in pairs(package.loaded) do add(n) end
  table.sort(names)
  local near = require("parley.session").suggest(name, names)
  -- The list shows the modules themselves, not their parts (parley.smtp, not parley.smtp.args).
  local shown = {}
  for _, n in ipairs(names) do
    if not n:find("^parley%.[^.]+%.") then shown[#shown + 1] = n end
  end
  return "module '" .. name .. "' not found" .. (near and ("; did you mean '" .. near .. "'?") or "") ..
    "\n  parley's modules: " .. table.concat(shown, ", ") ..
    (parley.options.verbose and ("\n" .. err) or
      "\n  (your own modules are looked for in -I directories and package.path; -v lists every path searched)")
end

return M
