--- POP3 client (RFC 1939, CAPA and extensions RFC 2449, STLS RFC 2595, AUTH RFC 5034).
--
--     local pop3 = require "parley.pop3"
--     local p = pop3.connect{ host = args.host, tls = "starttls" }   -- STLS; or "implicit" (995)
--     p:login(args.user, args.password)
--     local count, size = p:stat()
--     local text = p:retr(1)              -- the message, dot-unstuffed, CRLF line ends
--     p:quit()
--
-- Every command method checks that the server answered `+OK` and fails the conversation
-- (exit 1) otherwise, naming the command and the server's text — unless `expect=` in the
-- options says what is wanted: `"-ERR"` (or false), `"+OK"` (or true), a Lua pattern on the
-- status line, a function of the reply, or an array of those.
--
-- @module parley.pop3

local parley = require "parley"
local dial = require "parley.dial"
local session = require "parley.session"
local crypto = require "parley.crypto"
-- Loaded on first use: a script that never authenticates never loads it.
local sasl = setmetatable({}, { __index = function(_, k) return require("parley.sasl")[k] end })

local M = {}

local Session, meta = session.class("pop3")

local function misuse(msg)
  parley.raise(2, "script", msg)
end

---------------------------------------------------------------------------------------------
-- Replies and arguments (parley.pop3.check), the maildrop commands (parley.pop3.mailbox)

local check_mod = require "parley.pop3.check"
local matcher, read, check, run = check_mod.matcher, check_mod.read, check_mod.check, check_mod.run
local with_what, argument = check_mod.with_what, check_mod.argument
for name, fn in pairs(require("parley.pop3.mailbox").methods) do Session[name] = fn end

---------------------------------------------------------------------------------------------
-- Connecting

--- Wraps an open connection in a POP3 session and reads the greeting.
-- @param conn a connection
-- @param opts optional: `greeting` (false: do not read it), `timeout`, TLS options for `stls`
-- @return the session
function M.wrap(conn, opts)
  opts = opts or {}
  local s = setmetatable({ conn = conn, opts = opts }, meta)
  if conn.framing ~= "pop3" then conn:set_framing("pop3") end
  if opts.greeting ~= false then
    s.greeting = check(s, "greeting", opts.greeting, read(s, "greeting", opts.timeout))
    s.apop_stamp = (s.greeting.text or ""):match("(<[^<>]*@[^<>]*>)")
  end
  return s
end

--- Connects and reads the greeting; with `tls="starttls"` upgrades with STLS at once.
-- @param opts table: `host`, `port` (default 110, 995 with implicit TLS), `path` (a unix
--   socket instead), `tls` (false,
--   "starttls" or "implicit"), `verify`, `ca`, `ca_pem`, `sni`, `cert`, `key`, `timeout`
-- @return the session
function M.connect(opts)
  opts = opts or {}
  local conn, mode = dial.open(opts, { name = "pop3", framing = "pop3", port = 110, implicit_port = 995 })
  local s = M.wrap(conn, opts)
  if mode == "starttls" then s:stls() end
  return s
end

---------------------------------------------------------------------------------------------
-- Capabilities and TLS

--- CAPA (RFC 2449): the server's capabilities.
-- Fills `s.caps` (`STLS`, `USER`, `TOP`, `UIDL`, `PIPELINING`, `RESP-CODES`, ... as true or
-- their argument text; `AUTH`, also named `SASL`, as a set of mechanisms) and `s.caps_list`.
-- @param opts optional `{expect=, timeout=}`
-- @return the caps table (nil when the server answered -ERR and `expect=` allowed it), and
--   the reply
function Session:capa(opts)
  local r = run(self, "CAPA", opts, true)
  if r.status ~= "+OK" then return nil, r end
  local caps, list = {}, {}
  for _, line in ipairs(r.lines or {}) do
    local key, rest = line:match("^%s*(%S+)%s*(.-)%s*$")
    if key then
      key = key:upper()
      list[#list + 1] = line
      if key == "SASL" then
        local set = {}
        for mech in rest:gmatch("%S+") do set[mech:upper()] = true end
        caps.SASL, caps.AUTH = set, set   -- AUTH: the name the other protocols use
      else
        caps[key] = rest ~= "" and rest or true
      end
    end
  end
  self.caps, self.caps_list = caps, list
  return caps, r
end

--- The server's capabilities: CAPA when they are not known yet (the same call in every
-- protocol).
-- @param opts optional `{expect=, timeout=, refresh=true}`
-- @return the caps table (nil when the server refused), and the reply (nil when known already)
function Session:capabilities(opts)
  if self.caps and not (opts and opts.refresh) then return self.caps, nil end
  return self:capa(opts)
end

--- STLS (RFC 2595): upgrades the connection to TLS, then asks CAPA again.
-- Fails with exit 3 when the server does not offer STLS or refuses it: the session never goes
-- on in the clear. `starttls` is the same call (the name every protocol has).
-- @param opts optional TLS options (`sni`, `verify`, `ca`, `ca_pem`, ...; default: those of
--   connect), `caps` (false: do not ask CAPA again; the old spelling `capa=false` works too),
--   `expect` (a refusal matching it is returned instead of failing), `timeout`
-- @return the reply to STLS
function Session:stls(opts)
  opts = opts or {}
  local requery = session.requery(opts, "pop3")
  if self.conn.tls then misuse("stls: the connection is under TLS already") end
  if not self.caps then self:capa({ expect = { "+OK", "-ERR" } }) end
  if self.caps and not self.caps.STLS and opts.expect == nil then
    self.conn:close()
    parley.raise(3, "security", "STLS asked for but not offered by " .. self.conn.peer ..
      " (CAPA listed: " .. table.concat(self.caps_list or {}, ", ") .. "); not continuing in the clear")
  end
  self.conn:send("STLS")
  local r = read(self, "STLS", opts.timeout)
  -- A refusal the script wants is returned; any other is exit 3, expect= or not.
  if r.status ~= "+OK" and opts.expect ~= nil and matcher(opts.expect)(r) then return r end
  if r.status ~= "+OK" then
    self.conn:close()
    parley.raise(3, "security", "STLS refused by " .. self.conn.peer .. ": " .. (r.text or "") ..
      "; not continuing in the clear")
  end
  self.conn:starttls(dial.merged_tls_options(self.opts, opts))
  local had_caps = self.caps ~= nil
  self.caps, self.caps_list = nil, nil
  if had_caps and requery then self:capa({ expect = { "+OK", "-ERR" } }) end
  return r
end

--- Same as `stls` (the name the other protocol modules use).
Session.starttls = Session.stls

---------------------------------------------------------------------------------------------
-- Logging in

--- USER: names the mailbox.
function Session:user(name, opts)
  return run(self, "USER " .. argument(name, "USER"), opts)
end

--- PASS: the password (shown as **** in transcripts).
function Session:pass(password, opts)
  if password == nil then misuse("PASS: no password given") end
  local p = parley.secret(tostring(password))
  if p:find("[\r\n]") then misuse("PASS: the password holds a CR or LF; refused") end
  return run(self, "PASS " .. p, with_what(opts, "PASS ****"))
end

--- USER then PASS.
-- @param opts optional `{expect=}`: applies to PASS (e.g. "-ERR" for a test of a wrong password)
-- @return the reply to PASS
function Session:login(name, password, opts)
  self:user(name)
  local r = self:pass(password, opts)
  if r.status == "+OK" then self.authenticated = true end
  return r
end

--- APOP (RFC 1939 section 7): logs in with an MD5 digest of the greeting's timestamp and the
-- password. Fails (exit 1) when the greeting carries no timestamp.
function Session:apop(name, password, opts)
  if not self.apop_stamp then
    parley.raise(1, "expect", "APOP: the greeting of " .. self.conn.peer .. " has no <timestamp>, so APOP is not offered")
  end
  local digest = crypto.hex(crypto.digest("md5", self.apop_stamp .. parley.secret(tostring(password))))
  local r = run(self, "APOP " .. argument(name, "APOP") .. " " .. digest,
    with_what(opts, "APOP " .. tostring(name) .. " ****"))
  if r.status == "+OK" then self.authenticated = true end
  return r
end

local function abort_auth(s, mech, msg, kind)
  s.conn:send("*")
  pcall(read, s, "AUTH", 5)
  if kind == "security" then s.conn:close() end
  parley.raise(kind == "security" and 3 or 1, kind or "protocol", "AUTH " .. mech .. ": " .. msg)
end

--- AUTH (RFC 5034) with a SASL mechanism from parley.sasl; the initial response goes with
-- the command. SCRAM checks the server's signature (exit 3 when it does not match).
-- @param mech mechanism name, or nil for the strongest both sides speak (from CAPA's SASL)
-- @param opts optional: `expect` (e.g. "-ERR"), `authzid`, `initial` (false: no initial
--   response), `timeout`
-- @return the final reply
function Session:auth(mech, user, password, opts)
  opts = opts or {}
  if mech == nil then
    if not self.caps then self:capa({ expect = { "+OK", "-ERR" } }) end
    mech = sasl.choose(self.caps and self.caps.SASL or {})
    if not mech then parley.raise(1, "expect", "AUTH: no SASL mechanism in common with " .. self.conn.peer) end
  end
  local m = sasl.start(mech, user, password, opts)
  local line = "AUTH " .. m.name
  if opts.initial ~= false and m:has_initial() then
    local ir = m:initial()
    line = line .. " " .. (#ir == 0 and "=" or crypto.b64encode(ir))
  end
  self.conn:send(line)
  while true do
    local r = read(self, "AUTH " .. m.name, opts.timeout)
    if r.status ~= "+" then
      check(self, "AUTH " .. m.name, opts.expect, r)
      if r.status == "+OK" then
        local ok, err = m:finish()
        if not ok then
          self.conn:close()
          parley.raise(3, "security", "AUTH " .. m.name .. ": " .. err)
        end
        self.authenticated = true
      end
      return r
    end
    local challenge, err = crypto.b64decode((r.text or ""):match("^%+ ?(.-)%s*$") or "")
    if not challenge then abort_auth(self, m.name, "the challenge is not base64 (" .. err .. ")") end
    local resp, why, kind = m:step(challenge)
    if not resp then abort_auth(self, m.name, why, kind) end
    self.conn:send(#resp == 0 and "" or crypto.b64encode(resp))
  end
end

---------------------------------------------------------------------------------------------
-- Other commands

--- RSET: unmarks deleted messages.
function Session:rset(opts)
  return run(self, "RSET", opts)
end

--- NOOP.
function Session:noop(opts)
  return run(self, "NOOP", opts)
end

--- QUIT: ends the session (deleting the marked messages) and closes the connection.
function Session:quit(opts)
  local r = run(self, "QUIT", opts)
  self.conn:close()
  return r
end

--- Any command.
-- @param line the command (CR and LF refused)
-- @param opts optional: `block` (true: a multi-line response follows +OK), `expect`, `timeout`
-- @return the reply (with `lines` for a block)
function Session:command(line, opts)
  opts = session.command_options(opts, "pop3")
  return run(self, line, opts, opts.block)
end

--- Reads one response without checking it: for a multi-line response read by hand after
-- `s:send`, pass `{block = true}` (the lines come in `r.lines`).
-- @param timeout optional seconds, or a table `{timeout=, block=}`
-- @return the response, or nil and "timeout" or "eof"
function Session:read_reply(timeout)
  if type(timeout) == "table" then
    if timeout.block then self.conn:want_block() end
    timeout = timeout.timeout
  end
  return self.conn:read_reply(timeout)
end

return M
