--- The session core that parley.smtp, parley.pop3 and parley.imap share: one vocabulary.
-- The class of a session (its methods, the connection's fields it shows, a clear error for a
-- misspelled method), one way to read a reply (the same timeout and end-of-connection
-- failures everywhere), the options of `command`, the capability query after STARTTLS, the
-- pass-through methods, and the old spellings that still work (with a warning under
-- --strict). The table of the vocabulary is in docs/vocabulary.md.
-- @module parley.session

local parley = require "parley"
local core = require "parley.core"

local M = {}

-- Fields of the underlying connection that a session shows as its own.
local CONN_FIELDS = { tls = true, peer = true, host = true, port = true, id = true, timeout = true,
                      framing = true }

-- Fields a session may hold (read before they are set they are nil, not an error).
local FIELDS = {}
for _, k in ipairs { "conn", "opts", "caps", "caps_list", "greeting", "authenticated", "mailbox",
                     "envelope", "helo_name", "lmtp", "bye", "apop_stamp", "utf8_enabled",
                     "tag_count", "tag_prefix", "protocol" } do
  FIELDS[k] = true
end

local LABELS = { smtp = "an SMTP session", pop3 = "a POP3 session", imap = "an IMAP session" }

-- Edit distance between two short names, a swap of neighbours counting as one edit (for
-- "did you mean").
local function distance(a, b)
  if #a > 40 or #b > 40 then return math.huge end
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[#a][#b]
end

--- The closest of `names` to `name` (within two edits, or a prefix), or nil.
function M.suggest(name, names)
  local best, best_d = nil, 3
  for _, n in ipairs(names) do
    local d = distance(name:lower(), n:lower())
    if n:sub(1, #name) == name and #name >= 3 then d = math.min(d, 1) end
    if d < best_d or (d == best_d and best and n < best) then best, best_d = n, d end
  end
  return best
end

--- The message for a name that an object has neither as a method nor as a field, with the
-- closest name: "no method 'sned' on a connection; did you mean 'send'?", then its methods
-- (and fields). Sessions raise it, and so do connections, listeners and tasks (the bindings
-- call it through `parley.no_method`).
-- @param label "a connection", "an SMTP session", ...
-- @param name the name asked for
-- @param methods array of method names
-- @param fields optional array of field names
-- @return the message
function M.no_method(label, name, methods, fields)
  methods = table.move(methods, 1, #methods, 1, {})
  fields = table.move(fields or {}, 1, #(fields or {}), 1, {})
  table.sort(methods)
  table.sort(fields)
  local all = table.move(fields, 1, #fields, #methods + 1, table.move(methods, 1, #methods, 1, {}))
  local near = M.suggest(tostring(name), all)
  return "no method '" .. tostring(name) .. "' on " .. label ..
    (near and ("; did you mean '" .. near .. "'?") or "") ..
    "\n  its methods: " .. table.concat(methods, ", ") ..
    (#fields > 0 and ("; its fields: " .. table.concat(fields, ", ")) or "")
end

local function method_names(methods)
  local names = {}
  for k in pairs(methods) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" then names[#names + 1] = k end
  end
  table.sort(names)
  return names
end

--- The methods tables of the session classes made so far, by protocol name.
M.classes = {}

--- A session class for a protocol: the methods table to fill, and the metatable of sessions
-- (methods first, then the connection's fields: `s.tls`, `s.peer`, ...). Reading a name that
-- is neither a method nor a field is an error naming what exists: "no method 'recpt' on an
-- SMTP session; did you mean 'rcpt'?".
-- The methods tables are kept in `session.classes[name]`.
-- @param name "smtp", "pop3" or "imap"
-- @return the methods table and the metatable
function M.class(name)
  local methods = {}
  M.classes[name] = methods
  local label = LABELS[name] or (name .. " session")
  local meta = {
    __index = function(s, k)
      local m = methods[k]
      if m ~= nil then return m end
      -- Fields a protocol computes when first read (methods._lazy: name -> function(s)).
      local lazy = rawget(methods, "_lazy")
      if lazy and lazy[k] then
        local v = lazy[k](s)
        if v ~= nil then return v end
      end
      if CONN_FIELDS[k] then return rawget(s, "conn")[k] end
      if FIELDS[k] or type(k) ~= "string" or k:sub(1, 1) == "_" then return nil end
      parley.raise(2, "script", M.no_method(label, k, method_names(methods)))
    end,
    __name = name .. " session",
    __tostring = function(s) return name .. " session on " .. tostring(rawget(s, "conn")) end,
  }
  M.passthroughs(methods)
  return methods, meta
end

--- Warns once per name, under --strict, that an old spelling was used.
local warned = {}
function M.deprecated(old, new)
  if not parley.options.strict or warned[old] then return end
  warned[old] = true
  parley.warn("deprecated: " .. old .. " (write " .. new .. ")")
end

---------------------------------------------------------------------------------------------
-- Reading

--- Fails the conversation (exit 1): nothing came for `what` within `seconds` (the same
-- message in every protocol; when nothing at all came on a plaintext connection, it also
-- says whether the port speaks TLS first).
function M.timed_out(s, what, desc, seconds)
  local conn = s.conn
  local msg = parley.mask(what) .. ": expected " .. (desc or "a reply") ..
    ", but nothing came from " .. conn.peer .. " within " .. string.format("%g", seconds or conn.timeout) .. " s"
  -- Not under parley load: a probe per failed conversation would add load of its own.
  local hint = core.tls_first_hint(conn, require("parley.load").info == nil)
  if hint then msg = msg .. "\n  " .. hint end
  parley.raise(1, "timeout", msg)
end

--- Fails the conversation (exit 1): the peer closed the connection while `what` waited.
function M.closed(s, what, desc)
  local bye = s.bye and (" after \"" .. s.bye.text .. "\"") or ""
  parley.raise(1, "eof", parley.mask(what) .. ": expected " .. (desc or "a reply") .. ", but " ..
    s.conn.peer .. " closed the connection" .. bye)
end

--- What `read` does with what core.receive gave when it is not simply the reply wanted:
-- fails the conversation (no reply, or one `match` refuses), or returns the results of the
-- `on` handler that took the reply. For a library that reads with core.receive itself.
function M.settle(s, what, timeout, desc, match, r, why, more)
  if r == nil then
    if why == "timeout" then M.timed_out(s, what, desc, timeout) end
    if why == "eof" then M.closed(s, what, desc) end
    core.fail_read(s.conn, desc or "a reply", why, more, timeout)
  end
  if why == "handled" then return table.unpack(more, 1, more.n) end
  if match == nil or match(r) then return r end
  M.refuse(s, what, desc or "a reply", r, core.show_reply(r))
end

--- Reads one reply for `what`: any reply (handlers from `on` and --strict apply), or with
-- `match` one it accepts. A timeout or the end of the connection fails the conversation (see
-- `timed_out` and `closed`), and so does a reply `match` refuses (see `refuse`).
-- @param desc what was expected, for the message
-- @param match optional: a function of the reply, true when it is what was wanted
-- @return the reply (the framing's unit), or the results of the `on` handler that took it
function M.read(s, what, timeout, desc, match)
  -- core.receive, not c:expect: no alternatives and closures to build for every reply.
  local r, why, more = core.receive(s.conn, timeout)
  if why == nil and (match == nil or match(r)) then return r end  -- the usual case
  return M.settle(s, what, timeout, desc, match, r, why, more)
end

--- Fails the conversation (exit 1) because the reply to `what` is not what was wanted: the
-- same message shape in every protocol (command, what was expected, what came, what the
-- code means, the peer).
function M.refuse(s, what, desc, r, shown)
  local lines = { parley.mask(what) .. ": expected " .. desc .. ", got: " .. (shown or r.text or "") }
  if r.code and r.lines then
    for i = 2, math.min(#r.lines, 6) do lines[#lines + 1] = "  | " .. r.lines[i] end
  end
  local ok, cm = pcall(require, "parley.codes")
  local meaning = ok and cm.meaning and cm.meaning(r)
  if meaning then lines[#lines + 1] = "  meaning: " .. meaning end
  lines[#lines + 1] = "  from " .. s.conn.peer
  local _, err = pcall(parley.raise, 1, "expect", table.concat(lines, "\n"))
  if type(err) == "table" then err.code, err.enhanced, err.reply = r.code, r.enhanced, r end
  error(err, 0)
end

---------------------------------------------------------------------------------------------
-- Options

local OPTION_KEYS = { expect = true, timeout = true, block = true, what = true }

--- Whether `t` is an options table (`{expect=, timeout=, ...}`) rather than an expectation.
function M.is_options(t)
  if type(t) ~= "table" or getmetatable(t) ~= nil or t[1] ~= nil then return false end
  for k in pairs(t) do
    if OPTION_KEYS[k] then return true end
  end
  return next(t) == nil
end

--- The options of `command(line, opts)`: an options table as it is; anything else (the old
-- `command(line, expect)` of parley.smtp) becomes `{expect = ...}`, with a warning under
-- --strict.
function M.command_options(opts, proto)
  if opts == nil or M.is_options(opts) then return opts or {} end
  M.deprecated(proto .. ":command(line, expect)", proto .. ":command(line, {expect = ...})")
  return { expect = opts }
end

--- Whether the capability query after STARTTLS is wanted: `caps=false` skips it (the old
-- spellings `ehlo=false`, `capa=false`, `capability=false` still work).
function M.requery(opts, proto)
  for _, old in ipairs { "ehlo", "capa", "capability" } do
    if opts[old] ~= nil then
      M.deprecated(proto .. " starttls{" .. old .. "=...}", "starttls{caps=...}")
      if opts.caps == nil then return opts[old] ~= false end
    end
  end
  return opts.caps ~= false
end

---------------------------------------------------------------------------------------------
-- Pass-throughs: the connection's own calls, the same in every protocol

--- Installs send, send_raw, expect, read_reply, on, off and close on a methods table
-- (a protocol may replace read_reply to parse what it reads).
function M.passthroughs(methods)
  --- Sends a line (CRLF added) without reading anything.
  function methods:send(line) return self.conn:send(line) end
  --- Sends bytes as they are.
  function methods:send_raw(bytes) return self.conn:send_raw(bytes) end
  --- Reads a reply and checks it as the connection's `expect` does (codes and classes for
  -- SMTP, Lua patterns on the text in every protocol, functions, alternatives).
  function methods:expect(spec, timeout) return self.conn:expect(spec, timeout) end
  --- Reads one reply without checking it: the reply, or nil and "timeout" or "eof".
  function methods:read_reply(timeout) return self.conn:read_reply(timeout) end
  --- Installs a handler checked before every later reply is checked (see `c:on`).
  function methods:on(spec, fn)
    self.conn:on(spec, fn)
    return self
  end
  --- Removes the handlers installed with `on`.
  function methods:off()
    self.conn:off()
    return self
  end
  --- Closes the connection without the protocol's goodbye.
  function methods:close() return self.conn:close() end
end

return M
