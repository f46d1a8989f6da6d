--- SMTP, ESMTP submission and LMTP clients (RFC 5321, 3207, 4954, 3461, 2920, 3030, 6531, 2033).
--
--     local smtp = require "parley.smtp"
--     local s = smtp.connect{ host = args.host, port = 587, tls = "starttls" }
--     s:auth("PLAIN", args.user, args.password)
--     s:mail("alice@example.net")
--     s:rcpt("bob@example.net", { notify = "SUCCESS,FAILURE" })
--     s:rcpt("victim@elsewhere.test", { expect = "5xx" })   -- a refusal is what this test wants
--     s:data{ subject = "hi", body = "Hello\n.leading dot is stuffed\n" }
--     s:quit()
--
-- Every command method sends one command and returns the server's reply (`code`, `enhanced`,
-- `text`, `lines`). A reply of another class than the command's usual success fails the
-- conversation (exit 1), naming the command, what was expected and what the code means —
-- unless `expect=` in the options says what is wanted instead (a code, a class such as
-- `"5xx"`, a Lua pattern, a function, or a table of alternatives as for `c:expect`).
--
-- Addresses and parameters holding CR, LF or angle brackets are refused (exit 2): they could
-- smuggle a second command. STARTTLS that the server does not offer, or refuses, ends the
-- conversation with exit 3; it never goes on in the clear.
--
-- @module parley.smtp

local parley = require "parley"
local dial = require "parley.dial"
local core = require "parley.core"
local session = require "parley.session"
local crypto = require "parley.crypto"
-- Loaded on first use: a script that never authenticates never loads it.
local sasl = setmetatable({}, { __index = function(_, k) return require("parley.sasl")[k] end })

local M = {}

--- The name sent with EHLO/HELO/LHLO when the script gives none.
M.default_helo = "localhost"

local Session, meta = session.class("smtp")

---------------------------------------------------------------------------------------------
-- Checking replies, arguments, reply parsing and submission: parley.smtp.check,
-- parley.smtp.args, parley.smtp.reply and parley.smtp.submit

local check_mod = require "parley.smtp.check"
local args = require "parley.smtp.args"
local reply = require "parley.smtp.reply"
local submit = require "parley.smtp.submit"
local resolve, matches = check_mod.resolve, check_mod.matches
local check, read_any, run = check_mod.check, check_mod.read_any, check_mod.run
local misuse, argument = args.misuse, args.argument
local parse_caps = reply.parse_caps
-- The bindings' own close, not looked up through the connection's __index.
local close = parley.conn_methods.close

-- s.caps and s.caps_list, from the lines of the last EHLO, made when first read.
local function lazy_caps(s)
  local lines = rawget(s, "_caps_lines")
  if not lines then return end
  local caps, list = parse_caps(lines)
  rawset(s, "_caps_lines", nil)
  rawset(s, "caps", caps)
  rawset(s, "caps_list", list)
end
local new_envelope = submit.new_envelope
Session._lazy = {
  caps = function(s) lazy_caps(s); return rawget(s, "caps") end,
  caps_list = function(s) lazy_caps(s); return rawget(s, "caps_list") end,
  -- Made when first read: MAIL makes the session a new one anyway.
  envelope = function(s) new_envelope(s, nil); return rawget(s, "envelope") end,
}
for name, fn in pairs(submit.methods) do Session[name] = fn end

--- xtext encoding (RFC 3461 section 4): "+", "=" and bytes outside 33-126 as +XX.
M.xtext = args.xtext
--- Dot-stuffing (RFC 5321 section 4.5.2): a "." starting a line gets another ".".
M.dot_stuff = args.dot_stuff
--- The queue id in the reply to the end of a message, as each common server words it
-- (Postfix, Exim, OpenSMTPD, Sendmail, qmail, Exchange, Gmail, Haraka, Courier; see
-- parley.smtp.reply).
-- @param text the reply text (with or without the enhanced code), or a reply
-- @return the id, or nil
M.queue_id = reply.queue_id

---------------------------------------------------------------------------------------------
-- Capabilities

local function offered_mechs(s)
  local names = {}
  for k in pairs((s.caps and type(s.caps.AUTH) == "table") and s.caps.AUTH or {}) do
    names[#names + 1] = k
  end
  table.sort(names)
  return #names > 0 and table.concat(names, " ") or "none"
end

---------------------------------------------------------------------------------------------
-- Connecting

-- wrap, and connect's own (`framed`: the connection has SMTP framing already).
local function wrap(conn, opts, framed)
  opts = opts or {}
  -- greeting, _caps_lines and envelope come next: named here (as nil) so that the table is
  -- made with room for them, not grown by a rehash.
  local s = setmetatable({
    conn = conn, opts = opts, lmtp = opts.lmtp and true or false,
    helo_name = opts.helo or M.default_helo, greeting = nil, _caps_lines = nil, envelope = nil,
  }, meta)
  if not framed and conn.framing ~= "smtp" then conn:set_framing("smtp") end
  if opts.greeting ~= false then
    conn.last_command = "GREETING"
    s.greeting = check(s, "greeting", opts.greeting or 220, opts.timeout)
  end
  return s
end

--- Wraps a connection that is already open (from `connect`, `exec` or a unix socket) in an
-- SMTP session, and reads the greeting.
-- @param conn a connection
-- @param opts optional: `greeting` (what the greeting must be, default 220; false: do not read
--   it), `lmtp`, `helo`, and the TLS options used by a later `starttls`
-- @return the session
function M.wrap(conn, opts)
  return wrap(conn, opts, false)
end

local DIAL = { name = "smtp", framing = "smtp", port = 25, implicit_port = 465 }

--- Connects, reads the 220 greeting and, with `tls="starttls"`, upgrades the connection.
-- With `tls="starttls"`: EHLO, STARTTLS (exit 3 when the server does not offer it or refuses
-- it), the TLS handshake, and EHLO again. With `helo=` (or LMTP) the session also greets the
-- server at once, so `s.caps` is filled.
-- @param opts table: `host` (default 127.0.0.1), `port` (default 25, 465 for implicit TLS),
--   `path` (a unix socket, e.g. for LMTP), `tls` (false, "starttls" or "implicit"), `helo`,
--   `lmtp` (LHLO instead of EHLO, per-recipient replies after DATA), `verify`, `ca`, `ca_pem`,
--   `sni`, `cert`, `key`, `timeout`, `greeting` (expected greeting, default 220)
-- @return the session
function M.connect(opts)
  opts = opts or {}
  if type(opts) ~= "table" then misuse("smtp.connect: give a table of options") end
  local conn, mode = dial.open(opts, DIAL)
  local s = wrap(conn, opts, true)  -- dial.open asked for SMTP framing
  if mode == "starttls" then
    s:ehlo(opts.helo)
    s:starttls()
  elseif opts.helo or s.lmtp then
    s:ehlo(opts.helo)
  end
  return s
end

---------------------------------------------------------------------------------------------
-- Greeting and TLS

--- EHLO (or LHLO in an LMTP session): greets the server and learns its extensions.
-- Fills `s.caps`: `STARTTLS`, `PIPELINING`, `8BITMIME`, `SMTPUTF8`, `DSN`,
-- `ENHANCEDSTATUSCODES`, `CHUNKING` ... (true, or the parameter text when there is one),
-- `AUTH` (a set: `s.caps.AUTH.PLAIN`), `SIZE` (a number); and `s.caps_list` (the lines).
-- @param name optional client name (default: the `helo` option, else `smtp.default_helo`)
-- @param opts optional `{expect=, timeout=}`
-- @return the reply
function Session:ehlo(name, opts)
  self.helo_name = name or self.helo_name
  local verb = self.lmtp and "LHLO" or "EHLO"
  local r = run(self, verb .. " " .. self.helo_name, 250, opts)
  if r and r.code and r.code // 100 == 2 then
    -- Parsed when s.caps or s.caps_list is first read: a load test that never looks at them
    -- skips a dozen string-library calls per conversation.
    self.caps, self.caps_list, self._caps_lines = nil, nil, r.lines or {}
  end
  return r
end

--- LHLO (RFC 2033): EHLO for LMTP servers.
function Session:lhlo(name, opts)
  self.lmtp = true
  return self:ehlo(name, opts)
end

--- HELO: the old greeting, without extensions (`s.caps` becomes empty).
function Session:helo(name, opts)
  self.helo_name = name or self.helo_name
  local r = run(self, "HELO " .. self.helo_name, 250, opts)
  if r and r.code and r.code // 100 == 2 then
    self.caps, self.caps_list, self._caps_lines = {}, {}, nil
  end
  return r
end

local function not_offered(s, what)
  local seen = s.caps_list and #s.caps_list > 0 and table.concat(s.caps_list, ", ") or "no extensions"
  s.conn:close()
  parley.raise(3, "security", what .. " asked for but not offered by " .. s.conn.peer ..
    " (EHLO listed: " .. seen .. "); not continuing in the clear")
end

--- STARTTLS (RFC 3207): upgrades the connection, then greets again (unless `caps=false`).
-- Fails with exit 3 when the server does not offer STARTTLS or does not answer 220: the
-- conversation never goes on in the clear. With `expect=` set, a refusal that matches it is
-- returned instead (and no handshake happens).
-- @param opts optional: `sni`, `verify`, `ca`, `ca_pem`, `cert`, `key` (default: those given
--   to connect), `caps` (false: do not greet again; the old spelling `ehlo=false` works too),
--   `expect` (a refusal that matches it is returned instead of failing), `timeout`
-- @return the reply to STARTTLS
function Session:starttls(opts)
  opts = opts or {}
  if self.conn.tls then misuse("starttls: the connection is under TLS already") end
  if not self.caps then self:ehlo() end
  if not self.caps.STARTTLS and opts.expect == nil then not_offered(self, "STARTTLS") end
  local requery = session.requery(opts, "smtp")
  self.conn.last_command = "STARTTLS"
  self.conn:send("STARTTLS")
  local r = read_any(self, opts.timeout)
  if r.code ~= 220 then
    -- A refusal the script wants is returned; any other is exit 3, expect= or not.
    if opts.expect ~= nil and matches(resolve(opts.expect, 220), r) then return r end
    self.conn:close()
    parley.raise(3, "security", "STARTTLS refused by " .. self.conn.peer .. ": " ..
      core.show_reply(r) .. "; not continuing in the clear")
  end
  self.conn:starttls(dial.merged_tls_options(self.opts, opts))
  -- RFC 3207: forget what was learnt in the clear
  self.caps, self.caps_list, self._caps_lines = nil, nil, nil
  if requery then self:ehlo() end
  return r
end

--- The server's capabilities: EHLO when the session has not greeted yet (see `ehlo`).
-- The same call in every protocol (`pop3:capabilities` asks CAPA, `imap:capabilities`
-- CAPABILITY).
-- @param opts optional `{expect=, timeout=}`
-- @return the caps table (nil when the server refused), and the reply (nil when `s.caps`
--   was known already)
function Session:capabilities(opts)
  if self.caps and not (opts and opts.refresh) then return self.caps, nil end
  local r = self:ehlo(nil, opts)
  if type(r) ~= "table" or not r.code or r.code // 100 ~= 2 then return nil, r end
  return self.caps, r
end

---------------------------------------------------------------------------------------------
-- AUTH

local function abort_auth(s, mech, msg, kind)
  s.conn:send("*")
  pcall(read_any, s, 5)
  if kind == "security" then s.conn:close() end
  parley.raise(kind == "security" and 3 or 1, kind or "protocol", "AUTH " .. mech .. ": " .. msg)
end

-- One 334 challenge: decode, answer.
local function auth_step(s, m, r)
  local challenge, err = crypto.b64decode(r.text or "")
  if not challenge then abort_auth(s, m.name, "the server's challenge is not base64 (" .. err .. ")") end
  local resp, why, kind = m:step(challenge)
  if not resp then abort_auth(s, m.name, why, kind) end
  s.conn.last_command = "AUTH"
  s.conn:send(#resp == 0 and "" or crypto.b64encode(resp))
end

--- AUTH (RFC 4954) with a SASL mechanism from parley.sasl.
-- Credentials are registered secrets: the transcript shows `****`. SCRAM checks the signature
-- (a server that cannot prove it knows the password fails with exit 3).
-- @param mech PLAIN, LOGIN, CRAM-MD5, XOAUTH2, SCRAM-SHA-256, ...; nil picks the strongest
--   mechanism both sides speak
-- @param user user name
-- @param pass password (or token for XOAUTH2)
-- @param opts optional: `expect` (e.g. 535 or "5xx" for a test that wants a refusal),
--   `authzid`, `initial` (false: never send an initial response), `timeout`
-- @return the final reply (235 on success)
function Session:auth(mech, user, pass, opts)
  opts = opts or {}
  if mech == nil then
    mech = sasl.choose(self.caps and self.caps.AUTH or {})
    if not mech then
      parley.raise(1, "expect", "AUTH: no mechanism in common (the server offers: " .. offered_mechs(self) .. ")")
    end
  end
  local m = sasl.start(mech, user, pass, opts)
  local offered = self.caps and type(self.caps.AUTH) == "table" and self.caps.AUTH[m.name]
  if self.caps and not offered and opts.expect == nil then
    parley.raise(1, "expect", "AUTH " .. m.name .. ": the server does not offer it (offered: " ..
      offered_mechs(self) .. ")")
  end
  local line = "AUTH " .. m.name
  if opts.initial ~= false and m:has_initial() then
    local ir = m:initial()
    line = line .. " " .. (#ir == 0 and "=" or crypto.b64encode(ir))
  end
  self.conn.last_command = "AUTH"
  self.conn:send(line)
  local spec = opts.expect == nil and "2xx" or opts.expect
  local continue = { { 334, function(r) return r, true end } }
  while true do
    local r, more = check(self, "AUTH " .. m.name, spec, opts.timeout, continue)
    if not more then
      if type(r) == "table" and r.code and r.code // 100 == 2 then
        local ok, err = m:finish()
        if not ok then
          self.conn:close()
          parley.raise(3, "security", "AUTH " .. m.name .. ": " .. err)
        end
        self.authenticated = true
      end
      return r
    end
    auth_step(self, m, r)
  end
end

---------------------------------------------------------------------------------------------
-- Other commands

--- RSET: aborts the transaction.
function Session:rset(opts)
  new_envelope(self, nil)
  return run(self, "RSET", "2xx", opts)
end

--- NOOP.
function Session:noop(opts)
  return run(self, "NOOP", "2xx", opts)
end

--- VRFY: asks whether an address or name exists. Servers often answer 252 or 502.
-- @param who address or user name
-- @param opts optional `{expect=, timeout=}` (default: a 2xx reply)
function Session:vrfy(who, opts)
  return run(self, "VRFY " .. argument(who, "VRFY"), "2xx", opts)
end

--- EXPN: asks for the members of a mailing list.
function Session:expn(list, opts)
  return run(self, "EXPN " .. argument(list, "EXPN"), "2xx", opts)
end

--- HELP, optionally about a topic (214 or 211 expected).
function Session:help(topic, opts)
  if type(topic) == "table" then topic, opts = nil, topic end
  local line = topic and ("HELP " .. argument(topic, "HELP")) or "HELP"
  return run(self, line, "2xx", opts)
end

--- QUIT, then closes the connection.
-- @param opts optional `{expect=, timeout=}` (default 221)
function Session:quit(opts)
  local r = run(self, "QUIT", 221, opts)
  close(self.conn)
  return r
end

--- Any command line, with a check of the reply.
-- @param line the command (CR and LF refused)
-- @param opts optional `{expect=, timeout=}`; `expect` as for every command (default: a 2xx
--   or 3xx reply). The old form `command(line, expect)` still works (a warning under --strict).
-- @return the reply
function Session:command(line, opts)
  return run(self, line, { "2xx", "3xx" }, session.command_options(opts, "smtp"))
end

return M
