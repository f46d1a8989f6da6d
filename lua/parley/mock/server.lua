--- What the mock servers share: the listener and its accept loop, sessions, script hooks that
-- override replies, fault injection, SASL on the server side, and the log.
--
-- The protocol modules (`parley.mock.smtp`, `parley.mock.pop3`, `parley.mock.imap`) describe
-- their protocol to `start`; scripts use those modules, not this one. The options every mock
-- takes:
--
-- * `host` (default "127.0.0.1"), `port` (default 0: the kernel picks; read `m.port`)
-- * `tls`: false (default), `"starttls"` (offered with STARTTLS / STLS) or `"implicit"`
--   (SMTPS, POP3S, IMAPS); `cert`, `key` (PEM files; default: a certificate made on the fly),
--   `cert_profile` (`"expired"` or `"wrong-host"`: an on-the-fly certificate that fails the
--   client's check)
-- * `users`: `{ alice = "secret" }` (each password is registered as a secret: masked in logs).
--   Names are case-insensitive: `Alice` logs in as alice; two names that differ only in case
--   are an error.
-- * `act_as`: who may log in for whom with a SASL PLAIN authorization identity
--   (`{ admin = { "alice", "bob" } }`, or `{ admin = "*" }`); others are refused
-- * `allow_plaintext_auth`: with `tls = "starttls"`, logins are refused (and not offered)
--   before STARTTLS unless this is true; `require_tls` asks for TLS before anything else too
-- * `max_connections`: sessions at once (default 500; or a table `{ max = N, active = 0 }`
--   shared by several mocks); a client over it gets the protocol's "too busy" and is closed
-- * `store`: a `parley.mock.store` (default: a new one, `m.store`)
-- * `hostname`: the name in greetings (default "mock.parley.test")
-- * `on`: hooks that override replies, keyed by command (`RCPT`, `UID FETCH`, ...) or event
--   (`greeting`, `message` for the reply after an SMTP message). A hook is a reply (a string,
--   or a table of lines, with `close = true` to hang up after it) or a function
--   `fn(cmd, session)` returning one; `nil` lets the mock answer as usual, `true` says the hook
--   answered itself (through `session.conn`). `cmd` has `verb`, `arg`, `line` (and `tag`,
--   `args` for IMAP; `address` for MAIL and RCPT; `text` for `message`).
-- * `faults`: `{ RCPT = { delay = 2 }, greeting = { malformed = "bare_lf" }, tls = { fail = true } }`
--   (see `M.FAULT_FIELDS`), or a list of faults with `on = KEY`.
-- * `idle_timeout` (seconds a session waits for the next command, default 300),
--   `log` (a function taking one line, or true for stdout), `transcript` (show the mock's side
--   in the transcript; default: with -v).
--
-- The object returned has `port`, `host`, `cert_pem`, `store`, `errors` (messages of hooks that
-- failed), `sessions` (connections so far), `active`, and `stop()`, `wait()`.
-- @module parley.mock.server

local parley = require "parley"
local crypto = require "parley.crypto"
local Store = require "parley.mock.store"
local scan = require "parley.mock.scan"
local sasl = require "parley.mock.sasl"

local M = {}

--- Raised inside a session to end it quietly (the mock hung up).
M.HANGUP = setmetatable({}, { __tostring = function() return "the mock hung up" end })
--- Raised inside a session to make it stop answering (it reads and discards until the end).
M.SILENT = setmetatable({}, { __tostring = function() return "the mock stopped answering" end })

--- The fields a fault may have.
-- `delay` (seconds before the reply), `trickle` (seconds between the bytes of the reply),
-- `silent` (send nothing, and never answer again), `hangup` (close instead of answering),
-- `cut` (send the first N bytes of the reply, then close), `close` (close after the reply),
-- `raw` (send these bytes instead), `malformed` (send a malformed reply: see
-- `M.MALFORMED`), `size` (bytes of a `long_line`), `fail` (key `tls`: close the connection
-- as soon as the ClientHello arrives), `garbage` (key `tls`: answer the ClientHello with
-- plain text), `after` (let the first N occurrences pass), `times` (then apply N times).
-- Occurrences are counted per session, except for `greeting` and `tls`, counted per server
-- (`greeting = { hangup = true, after = 2 }`: the third client is hung up on).
-- `bare_lf_end` (key `DATA`, SMTP): take a bare LF for a line end inside DATA, so that
-- `<LF>.<LF>` ends the message, as servers open to SMTP smuggling did (off by default: only
-- `<CRLF>.<CRLF>` ends it).
M.FAULT_FIELDS = {
  bare_lf_end = "boolean",
  delay = "number", trickle = "number", silent = "boolean", hangup = "boolean",
  cut = "number", close = "boolean", raw = "string", malformed = "string", size = "number",
  fail = "boolean", garbage = "boolean", after = "number", times = "number", on = "string",
}

--- Malformed replies: name -> description.
M.MALFORMED = {
  two_digits = "a reply code of two digits",
  letter_code = "a reply code with a letter in it",
  mixed_codes = "a multi-line reply whose lines carry different codes",
  bare_lf = "the real reply, with bare LF line ends",
  long_line = "a line of 100 KB (size= to change)",
  nul = "the real reply, with NUL bytes in it",
  endless = "a line that never ends (until the client goes away)",
  endless_reply = "a multi-line reply that never ends",
  empty = "an empty line",
  huge_literal = "an IMAP response announcing a literal of 4294967295 bytes",
}

-- Names of events (as opposed to commands): written in lower case.
local EVENTS = { greeting = true, tls = true, message = true, idle = true, error = true,
                 continuation = true, ["*"] = true }

--- The key of a hook or fault: events in lower case, commands in upper case.
function M.key(name)
  name = tostring(name)
  if EVENTS[name:lower()] then return name:lower() end
  return name:upper()
end

local function misuse(msg)
  parley.raise(2, "script", msg)
end

local function check_fault(key, f)
  if type(f) ~= "table" then misuse("mock: the fault for " .. key .. " must be a table") end
  for k, v in pairs(f) do
    local want = M.FAULT_FIELDS[k]
    if not want then
      misuse("mock: unknown fault field \"" .. tostring(k) .. "\" for " .. key ..
        " (delay, trickle, silent, hangup, cut, close, raw, malformed, size, fail, garbage, after, times, bare_lf_end)")
    end
    if type(v) ~= want then misuse("mock: fault field " .. k .. " for " .. key .. " must be a " .. want) end
  end
  if f.malformed and not M.MALFORMED[f.malformed] then
    local names = {}
    for n in pairs(M.MALFORMED) do names[#names + 1] = n end
    table.sort(names)
    misuse("mock: unknown malformed reply \"" .. f.malformed .. "\" (" .. table.concat(names, ", ") .. ")")
  end
end

--- Normalises a faults table (keyed, or a list with `on=`) into `{ KEY = fault }`.
function M.faults(spec)
  local out = {}
  for k, v in pairs(spec or {}) do
    local key = type(k) == "number" and M.key(v.on or "*") or M.key(k)
    check_fault(key, v)
    local f = out[key] or {}
    for name, value in pairs(v) do if name ~= "on" then f[name] = value end end
    out[key] = f
  end
  return out
end

local function hooks(spec)
  local out = {}
  for k, v in pairs(spec or {}) do
    local t = type(v)
    if t ~= "function" and t ~= "string" and t ~= "table" and t ~= "boolean" then
      misuse("mock: the hook on." .. tostring(k) .. " must be a function, a reply or a table of lines")
    end
    out[M.key(k)] = v
  end
  return out
end

--- The text of an error object, for logs.
function M.errtext(err)
  if type(err) == "table" and err.message then return tostring(err.message) end
  return tostring(err)
end

--- Control characters shown as "?" (for echoing what a client sent).
M.shown = scan.shown

local function b64(s)
  return crypto.b64encode(s)
end

---------------------------------------------------------------------------------------------
-- Parsing peer input in linear time (parley.mock.scan)

--- `s` without the white space at its ends (linear in its length).
M.trim = scan.trim
--- The verb of a command line and the rest, trimmed.
M.verb_arg = scan.verb_arg
--- The words of `s`, at most `max` (default 64); the second result is true when there were more.
M.words = scan.words
--- From `least` to `most` words as values, or nil when there are fewer or more.
M.split_words = scan.split_words

---------------------------------------------------------------------------------------------
-- Sessions

local Session = {}
Session.__index = Session
M.Session = Session

--- Writes a line to the log: "smtp 3: text".
function Session:log(text)
  self.server:log(self.proto .. " " .. self.id .. ": " .. text)
end

--- Whether the connection runs under TLS.
function Session:is_tls()
  return self.conn.tls ~= nil
end

--- Whether logging in must wait for TLS: with `tls = "starttls"` nothing that carries a
-- password is offered or accepted in the clear (as a real server does), unless
-- `allow_plaintext_auth`; `require_tls` asks for it whatever the TLS mode.
function Session:auth_needs_tls()
  if self:is_tls() then return false end
  local opts = self.server.opts
  if opts.require_tls then return true end
  return self.server.tls == "starttls" and not opts.allow_plaintext_auth
end

local PER_SERVER = { greeting = true, tls = true }

-- Counts an occurrence of `key` and returns the fault to apply now, if any.
function Session:fault_for(key)
  local faults = self.server.faults
  local f = faults[key] or faults["*"]
  if not f then return nil end
  local which = faults[key] and key or "*"
  -- a greeting and a handshake happen once a session: those are counted across sessions
  local counts = PER_SERVER[which] and self.server.fault_counts or self.fault_counts
  local n = (counts[which] or 0) + 1
  counts[which] = n
  local after = f.after or 0
  if n <= after then return nil end
  if f.times and n > after + f.times then return nil end
  return f
end

local function assemble(parts)
  local out = {}
  for _, p in ipairs(parts) do
    if type(p) == "table" then out[#out + 1] = p.raw else out[#out + 1] = p .. "\r\n" end
  end
  return table.concat(out)
end

-- Bytes of a malformed reply in place of `parts`.
function Session:malformed(name, parts, f)
  local real = assemble(parts)
  local prefix = self.handler.line_prefix or "250 "
  if name == "two_digits" then return "25 malformed reply: two-digit code\r\n" end
  if name == "letter_code" then return "2x0 malformed reply: letter in the code\r\n" end
  if name == "mixed_codes" then
    return "250-first line\r\n550-second line with another code\r\n250 last line\r\n"
  end
  if name == "bare_lf" then return (real:gsub("\r\n", "\n")) end
  if name == "long_line" then return prefix .. string.rep("x", f.size or 100 * 1024) .. "\r\n" end
  if name == "nul" then
    local first, rest = real:match("^([^\r\n]*)(.*)$")
    return first:sub(1, 4) .. "\0\0" .. first:sub(5) .. "\0" .. rest
  end
  if name == "empty" then return "\r\n" end
  if name == "huge_literal" then return "* 1 FETCH (UID 1 BODY[] {4294967295}\r\n" end
  return real
end

-- Sends bytes that never end: a line, or a reply of lines, until the client goes away.
function Session:endless(name, f)
  local c = self.conn
  local chunk
  if name == "endless" then
    c:send_raw(self.handler.line_prefix or "250 ")
    chunk = string.rep("x", 16 * 1024)
  else
    local cont = self.handler.continuation_prefix or "250-"
    chunk = string.rep(cont .. "more\r\n", 1024)
  end
  local sent, limit = 0, f.size or (1024 * 1024 * 1024)
  while sent < limit do
    c:send_raw(chunk, self.server.idle)
    sent = sent + #chunk
  end
  error(M.HANGUP, 0)
end

--- Sends a reply (a line, or a list of lines and `{raw = bytes}` pieces), applying the fault
-- configured for `key`. Lines go through `conn:send`, which refuses a CR or LF inside a line.
function Session:emit(key, parts)
  if type(parts) == "string" then parts = { parts } end
  local c = self.conn
  local f = self:fault_for(key)
  if not f then
    for _, p in ipairs(parts) do
      if type(p) == "table" then c:send_raw(p.raw, self.server.idle) else c:send(p, self.server.idle) end
    end
    return
  end
  self:log("fault on " .. key)
  if f.delay then parley.sleep(f.delay) end
  if f.hangup then error(M.HANGUP, 0) end
  if f.silent then error(M.SILENT, 0) end
  if f.malformed == "endless" or f.malformed == "endless_reply" then self:endless(f.malformed, f) end
  for _, p in ipairs(parts) do
    if type(p) == "string" and p:find("[\r\n]") then c:send(p) end -- the engine refuses it
  end
  local bytes = f.raw or (f.malformed and self:malformed(f.malformed, parts, f)) or assemble(parts)
  if f.cut then bytes = bytes:sub(1, f.cut) end
  if f.trickle then
    for i = 1, #bytes do
      c:send_raw(bytes:sub(i, i), self.server.idle)
      if i < #bytes then parley.sleep(f.trickle) end
    end
  elseif #bytes > 0 then
    c:send_raw(bytes, self.server.idle)
  end
  if f.cut or f.close then error(M.HANGUP, 0) end
end

--- Reads the next line from the client (without its line end); a second result "bare_lf"
-- tells a line ended by a bare LF. Ends the session (with the protocol's goodbye) at the idle
-- timeout, at the end of the stream, or on a line too long.
function Session:read_line(timeout)
  local ok, line, why = pcall(self.conn.read_line, self.conn, timeout or self.server.idle)
  if not ok then
    local err = line
    if type(err) == "table" and err.kind == "protocol" then
      self:log("malformed input: " .. M.errtext(err))
      pcall(self.emit, self, "error", self.handler.too_long(self))
      error(M.HANGUP, 0)
    end
    error(err, 0)
  end
  if line then return line, why end
  if why == "timeout" then
    self:log("idle for " .. tostring(timeout or self.server.idle) .. " s: closing")
    pcall(self.emit, self, "idle", self.handler.idle_reply(self))
  end
  error(M.HANGUP, 0)
end

--- Reads exactly `n` bytes (an IMAP literal, an SMTP BDAT chunk); ends the session when the
-- stream ends first.
function Session:read_bytes(n)
  if n == 0 then return "" end
  local data = self.conn:read(n, self.server.idle)
  if not data or #data < n then error(M.HANGUP, 0) end
  return data
end

local PIECE = 64 * 1024

--- Reads `n` bytes in pieces of at most 64 KB, appended to the list `into` (the connection's
-- buffer never holds more than a piece); ends the session when the stream ends first.
function Session:read_pieces(n, into)
  self.bulk = (self.bulk or 0) + n
  while n > 0 do
    local piece = self:read_bytes(math.min(n, PIECE))
    if into then into[#into + 1] = piece end
    n = n - #piece
  end
end

--- Reads `n` bytes and drops them (a chunk over a limit, that the client sends anyway).
function Session:skip_bytes(n)
  self:read_pieces(n, nil)
end

local function closing(self, lines)
  local last = lines[#lines]
  return type(last) == "string" and self.handler.closes and self.handler.closes(self, last)
end

--- Records a failure of the script's hook (or of the mock itself): logged, kept in
-- `m.errors`, shown as a warning, and answered with the protocol's "internal error" reply.
function Session:hook_error(key, err, cmd)
  local msg = "mock " .. self.proto .. ": the hook on." .. key .. " failed: " .. M.errtext(err)
  self.server.errors[#self.server.errors + 1] = msg
  parley.warn(msg)
  self:log(msg)
  self:emit("error", self.handler.error_reply(self, cmd))
end

local function is_script_error(err)
  if type(err) ~= "table" then return true end
  return err.kind == nil or err.kind == "script" or err.kind == "failed"
end

--- Runs the script's hook for `key`, if any. Returns true when the hook answered (the mock
-- then does nothing more for this command).
function Session:hook(key, cmd)
  local h = self.server.hooks[key]
  if h == nil then return false end
  local result = h
  if type(h) == "function" then
    local ok, r = pcall(h, cmd, self)
    if not ok then
      if r == M.HANGUP or r == M.SILENT or not is_script_error(r) then error(r, 0) end
      self:hook_error(key, r, cmd)
      return true
    end
    result = r
  end
  if result == nil or result == false then return false end
  if result == true then return true end
  local lines = type(result) == "string" and { result } or result
  for i, line in ipairs(lines) do
    if type(line) ~= "string" then
      self:hook_error(key, "line " .. i .. " of the reply is a " .. type(line) .. ", not a string", cmd)
      return true
    end
  end
  if self.handler.hook_lines then lines = self.handler.hook_lines(self, cmd, lines) end
  local ok, err = pcall(self.emit, self, key, lines)
  if not ok then
    if err == M.HANGUP or err == M.SILENT or not is_script_error(err) then error(err, 0) end
    self:hook_error(key, err, cmd)
    return true
  end
  if result.close or closing(self, lines) then error(M.HANGUP, 0) end
  return true
end

--- Runs the server side of a TLS handshake (after STARTTLS, or at once for implicit TLS),
-- applying a `tls` fault. Ends the session when the handshake fails.
function Session:handshake()
  local c = self.conn
  local f = self:fault_for("tls")
  if f then
    self:log("fault on tls")
    if f.delay then parley.sleep(f.delay) end
    if f.silent then error(M.SILENT, 0) end
    if f.fail or f.hangup then
      c:read(0, self.server.idle) -- the ClientHello
      self:log("closing right after the ClientHello (fault)")
      error(M.HANGUP, 0)
    end
    if f.garbage or f.raw or f.malformed then
      c:read(0, self.server.idle)
      c:send_raw(f.raw or "this is not TLS, sorry\r\n")
      error(M.HANGUP, 0)
    end
  end
  local ok, err = pcall(c.starttls, c, { timeout = self.server.handshake_timeout })
  if not ok then
    self:log("TLS handshake failed: " .. M.errtext(err))
    error(M.HANGUP, 0)
  end
  self:log("TLS up: " .. tostring(c.tls.version) .. " " .. tostring(c.tls.cipher))
  return true
end

--- True (and says so) when commands were pipelined after STARTTLS / STLS: such bytes would
-- be taken as if they came under TLS (CVE-2011-0411), so the mock refuses and hangs up.
function Session:injected(verb)
  local n = self.conn:pending()
  if n == 0 then return false end
  self:log(string.format("%d byte(s) pipelined after %s: refused (CVE-2011-0411)", n, verb))
  return true
end

---------------------------------------------------------------------------------------------
-- SASL, server side (parley.mock.sasl)

--- Runs a SASL exchange (see parley.mock.sasl): the user name, or nil and why.
function Session:sasl(mech, initial, challenge)
  return sasl.exchange(self, mech, initial, challenge)
end

--- The SASL mechanisms the mocks speak.
M.MECHANISMS = sasl.MECHANISMS

---------------------------------------------------------------------------------------------
-- Servers

local Server = {}
Server.__index = Server

--- Writes one line to the server's log (if it has one).
function Server:log(line)
  if self.logger then self.logger(line) end
end

--- The configured name of a user: user names are case-insensitive ("Alice" is alice).
function Server:user_name(user)
  return self.canon[tostring(user):lower()]
end

--- The password of a user, or nil.
function Server:password(user)
  local name = self:user_name(user)
  if name == nil then return nil end
  return tostring(self.users[name])
end

--- Checks a user name and password. Returns the user's configured name, or nil and "failed".
function Server:authenticate(user, pass)
  local want = self:password(user)
  if want ~= nil and want == pass then return self:user_name(user) end
  return nil, "failed"
end

--- The user `who` may act for (a SASL authorization identity), by the `act_as` option
-- (`{ admin = { "alice", "bob" } }`, or `{ admin = "*" }` for every user), or nil.
function Server:may_act_as(who, authz)
  local target = self:user_name(authz)
  if not target then return nil end
  for name, list in pairs(self.opts.act_as or {}) do
    if tostring(name):lower() == who:lower() then
      if list == "*" then return target end
      for _, t in ipairs(type(list) == "table" and list or { list }) do
        if tostring(t):lower() == target:lower() then return target end
      end
    end
  end
  return nil
end

--- The user an address delivers to (`USER@any-domain`, case-insensitive), or nil.
function Server:user_for_address(addr)
  local lp = addr:match("^(.*)@[^@]*$") or addr
  if lp:sub(1, 1) == '"' and lp:sub(-1) == '"' and #lp >= 2 then lp = lp:sub(2, -2) end
  local name = self:user_name(lp)
  if name then return name end
  if self.accept_all and lp ~= "" then return lp end
  return nil
end

--- Stops the mock: closes the listener and ends every session.
function Server:stop()
  if self.stopped then return end
  self.stopped = true
  pcall(self.listener.close, self.listener)
  if self.task and not self.task:done() then
    pcall(self.task.cancel, self.task, "the mock " .. self.proto .. " server was stopped")
  end
  self:log("stopped")
end

--- Waits until the mock is stopped (for scripts that only serve).
-- @param timeout optional seconds (default: no limit)
function Server:wait(timeout)
  local deadline = timeout and parley.clock() + timeout
  while not self.stopped do
    if deadline and parley.clock() >= deadline then return false end
    parley.sleep(deadline and math.min(0.1, math.max(0, deadline - parley.clock())) or 1)
  end
  return true
end

local function run_session(server, conn, id)
  local s = setmetatable({
    server = server, conn = conn, proto = server.proto, handler = server.handler,
    id = id, peer = conn.peer, data = {}, fault_counts = {},
  }, Session)
  server.active = server.active + 1
  server.limit.active = server.limit.active + 1
  s:log("connection from " .. conn.peer)
  local ok, err = pcall(function()
    if server.tls == "implicit" then s:handshake() end
    server.handler.serve(s)
  end)
  if not ok and err == M.SILENT then
    s:log("not answering any more (fault)")
    ok, err = pcall(function()
      while true do
        local line = conn:read(0, server.idle)
        if not line then return end
      end
    end)
  end
  if not ok and err ~= M.HANGUP then
    if is_script_error(err) then
      local msg = "mock " .. server.proto .. " session " .. s.id .. " failed: " .. M.errtext(err)
      server.errors[#server.errors + 1] = msg
      parley.warn(msg)
      s:log(msg)
    else
      s:log("ended: " .. M.errtext(err))
    end
  end
  if conn:pending() > 0 then pcall(conn.read, conn, conn:pending(), 0.01) end
  pcall(conn.close, conn)
  server.active = server.active - 1
  server.limit.active = server.limit.active - 1
  s:log("closed")
  -- what a session read in bulk (literals, BDAT chunks) goes back to the system now, not
  -- whenever the collector next runs (an idle server allocates nothing that would run it)
  if (s.bulk or 0) >= 1024 * 1024 then
    s = nil
    collectgarbage()
  end
end

-- Answers a connection over the limit with the protocol's "too busy" and closes it.
local function refuse(server, conn)
  pcall(conn.send, conn, server.handler.busy_reply(server), 2)
  pcall(conn.close, conn)
end

local function accept_loop(server)
  local backoff = 0.05
  local limit = server.limit
  while not server.stopped do
    local ok, conn = pcall(server.listener.accept, server.listener, math.huge)
    if ok and limit.active >= limit.max then
      server.refused = server.refused + 1
      local now = parley.clock()
      if now - (server.refused_logged or 0) >= 1 then
        server.refused_logged = now
        server:log(string.format("%d connection(s) open, the limit: refusing %s (%d refused so far)",
          limit.active, tostring(conn.peer), server.refused))
      end
      parley.spawn(refuse, server, conn)
    elseif ok then
      backoff = 0.05
      server.sessions = server.sessions + 1
      conn:set_timeout(server.idle)
      parley.spawn(run_session, server, conn, server.sessions)
    else
      local msg = M.errtext(conn)
      if server.stopped or msg:find("listener is closed", 1, true) then break end
      server.accept_errors = server.accept_errors + 1
      server:log(string.format("accept failed: %s (trying again in %g s)", msg, backoff))
      parley.sleep(backoff)
      backoff = math.min(backoff * 2, 1)
    end
  end
end

local function tls_mode(v)
  if v == nil or v == false or v == "none" then return false end
  if v == true or v == "implicit" then return "implicit" end
  if v == "starttls" then return "starttls" end
  misuse("mock: tls must be false, \"starttls\" or \"implicit\", not " .. tostring(v))
end

-- A user's password and the encodings clients send it in (AUTH PLAIN with and without an
-- authzid, XOAUTH2; secret() itself registers the base64 LOGIN sends) are registered as secrets before any client speaks, so that logs
-- and the -v transcript, which show a line as it arrives, mask them.
local function register_credentials(user, pass)
  parley.secret(pass)
  for _, form in ipairs { "\0" .. user .. "\0" .. pass, user .. "\0" .. user .. "\0" .. pass,
      "user=" .. user .. "\1auth=Bearer " .. pass .. "\1\1" } do
    parley.secret(crypto.b64encode(form))
  end
end

--- Starts a mock server for a protocol (used by the protocol modules).
-- @param proto "smtp", "pop3" or "imap"
-- @param opts the options (see the module's description)
-- @param handler the protocol: `serve(session)`, `too_long`, `idle_reply`, `error_reply`,
--   `closes`, `hook_lines`, `line_prefix`, `continuation_prefix`
-- @return the server object
function M.start(proto, opts, handler)
  opts = opts or {}
  if type(opts) ~= "table" then misuse("mock: start takes a table of options") end
  local logger = opts.log
  if logger == true then
    logger = function(line)
      io.stdout:write(parley.mask(line), "\n")
      io.stdout:flush()
    end
  elseif logger ~= nil and type(logger) ~= "function" then
    misuse("mock: log must be a function or true")
  end
  local self = setmetatable({
    proto = proto, opts = opts, handler = handler,
    users = opts.users or {}, store = opts.store or Store.new(),
    hooks = hooks(opts.on), faults = M.faults(opts.faults),
    tls = tls_mode(opts.tls), hostname = opts.hostname or "mock.parley.test",
    idle = opts.idle_timeout or 300, handshake_timeout = opts.handshake_timeout or 30,
    accept_all = opts.accept_all, logger = logger,
    errors = {}, sessions = 0, active = 0, accept_errors = 0, refused = 0, stopped = false,
    fault_counts = {},
  }, Server)
  if type(self.users) ~= "table" then misuse("mock: users must be a table { name = password }") end
  -- user names are case-insensitive, everywhere: two that differ only in case are one user
  local canon, names = {}, {}
  for name in pairs(self.users) do names[#names + 1] = tostring(name) end
  table.sort(names)
  for _, name in ipairs(names) do
    local low = name:lower()
    if canon[low] then
      misuse("mock: the users " .. canon[low] .. " and " .. name ..
        " differ only in case (user names are case-insensitive)")
    end
    canon[low] = name
  end
  self.canon = canon
  local limit = opts.max_connections or 500
  if type(limit) == "number" then
    if limit < 1 then misuse("mock: max_connections must be 1 or more") end
    limit = { max = limit, active = 0 }
  elseif type(limit) ~= "table" or type(limit.max) ~= "number" then
    misuse("mock: max_connections must be a number (or a shared { max = N, active = 0 })")
  end
  limit.active = limit.active or 0
  self.limit = limit
  for name, pass in pairs(self.users) do register_credentials(tostring(name), tostring(pass)) end
  self.listener = parley.listen {
    host = opts.host or "127.0.0.1", port = opts.port or 0,
    tls = self.tls and "starttls" or false,
    cert = opts.cert, key = opts.key, cert_profile = opts.cert_profile,
    transcript = opts.transcript,
    -- a client's credentials never show, registered as secrets or not (a password the mock
    -- does not know, a PLAIN blob encoded another way)
    hide_logins = proto,
  }
  self.port = self.listener.port
  self.host = self.listener.host
  self.cert_pem = self.listener.cert_pem
  self.task = parley.spawn(accept_loop, self)
  return self
end

--- Base64 (for challenges).
M.b64 = b64

return M
