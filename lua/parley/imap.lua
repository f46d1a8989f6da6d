--- IMAP4 client (RFC 3501 / RFC 9051, with IDLE, LITERAL+, SASL-IR, UIDPLUS, MOVE).
--
--     local imap = require "parley.imap"
--     local s = imap.connect{ host = args.host, tls = "starttls" }   -- or "implicit" (993)
--     s:login(args.user, args.password)
--     local box = s:select("INBOX")                  -- box.exists, box.uidvalidity, box.flags
--     local ids = s:search("UNSEEN")                 -- { 3, 4 }
--     local msgs = s:fetch("1:*", "(UID FLAGS BODY.PEEK[])")
--     print(msgs[1].UID, msgs[1].FLAGS[1], #msgs[1]["BODY[]"])
--     s:logout()
--
-- Tags are made up automatically (A0001, A0002, ...). Every response is parsed: untagged data
-- updates the session (`s.caps`, `s.mailbox.exists`, ...) and is returned with the command's
-- result; the tagged status must be OK, or the conversation fails (exit 1) naming the command
-- and the server's answer — unless `expect=` in the options says what is wanted: "OK", "NO",
-- "BAD", true (OK), false (NO or BAD), a Lua pattern on the tagged line, a function of the
-- tagged result, or an array of those.
--
-- Strings in commands are sent as atoms, quoted strings or literals as their content needs:
-- a password or mailbox name can never end the command line early or start another one.
--
-- The parts: parley.imap.utf7 (the mailbox name codec), parley.imap.parse (responses),
-- parley.imap.encode (arguments), parley.imap.check (tags, reading, checking) and
-- parley.imap.mailbox (the mailbox and selected-state commands, IDLE); this module is the
-- session: connecting, the greeting, STARTTLS, logging in, and the plumbing.
-- @module parley.imap

local parley = require "parley"
local dial = require "parley.dial"
local session = require "parley.session"
local crypto = require "parley.crypto"
-- Loaded on first use: a script that never authenticates never loads it.
local sasl = setmetatable({}, { __index = function(_, k) return require("parley.sasl")[k] end })

local M = {}

local Session, meta = session.class("imap")

local function misuse(msg)
  parley.raise(2, "script", msg)
end

local utf7 = require "parley.imap.utf7"
local parse = require "parley.imap.parse"

--- The NIL of IMAP responses in parsed trees (`imap.NIL`); prints as "NIL".
M.NIL = parse.NIL

--- Encodes a UTF-8 mailbox name in modified UTF-7 (see parley.imap.utf7).
M.utf7_encode = utf7.encode
--- Decodes a modified UTF-7 mailbox name to UTF-8.
M.utf7_decode = utf7.decode
--- Parses a string of IMAP values (see parley.imap.parse).
M.parse_values = parse.parse_values
--- Turns a parsed ENVELOPE list into a table (see parley.imap.parse).
M.parse_envelope = parse.parse_envelope
--- Parses one response (see parley.imap.parse).
M.parse_response = parse.parse_response

---------------------------------------------------------------------------------------------
-- Encoding command arguments (parley.imap.encode)

local encode = require "parley.imap.encode"
--- Marks a string to be sent as it is (see parley.imap.encode).
M.atom = encode.atom
--- Marks text to be sent as it is, spaces included.
M.raw = encode.raw
--- Marks a string to be sent as a quoted string (a literal when it cannot be quoted).
M.quoted = encode.quoted
--- Marks a string to be sent as a literal ({n} and the bytes).
M.literal = encode.literal
--- Encodes command arguments as IMAP text: an array of pieces `{text=}` / `{literal=}`.
M.encode = encode.encode

---------------------------------------------------------------------------------------------
-- The exchange (parley.imap.check) and the mailbox commands (parley.imap.mailbox)

local check = require "parley.imap.check"
local read, absorb, tagged_matcher = check.read, check.absorb, check.tagged_matcher
local check_tagged, run = check.check_tagged, check.run
local collect, next_tag = check.collect, check.next_tag
local mailbox_commands = require "parley.imap.mailbox"
for name, fn in pairs(mailbox_commands.methods) do Session[name] = fn end

---------------------------------------------------------------------------------------------
-- Connecting

--- Wraps an open connection in an IMAP session and reads the greeting.
-- A greeting other than `* OK` or `* PREAUTH` fails (exit 1).
-- @param opts optional: `greeting` (false: do not read it), `tag_prefix` (default "A"),
--   `timeout`, TLS options for `starttls`
function M.wrap(conn, opts)
  opts = opts or {}
  local s = setmetatable({ conn = conn, opts = opts, tag_count = 0, tag_prefix = opts.tag_prefix or "A" }, meta)
  if conn.framing ~= "imap" then conn:set_framing("imap") end
  if opts.greeting ~= false then
    local g = read(s, "greeting", opts.timeout)
    absorb(s, g)
    s.greeting = g
    if g.tag ~= "*" or (g.status ~= "OK" and g.status ~= "PREAUTH") then
      parley.raise(1, "expect", "greeting: expected \"* OK\" or \"* PREAUTH\", got: " .. g.text ..
        "\n  from " .. conn.peer)
    end
    s.authenticated = g.status == "PREAUTH"
  end
  return s
end

--- Connects and reads the greeting; with `tls="starttls"` upgrades at once (STARTTLS).
-- @param opts table: `host`, `port` (default 143, 993 with implicit TLS), `path` (a unix
--   socket instead), `tls` (false,
--   "starttls" or "implicit"), `verify`, `ca`, `ca_pem`, `sni`, `cert`, `key`, `timeout`
-- @return the session
function M.connect(opts)
  opts = opts or {}
  local conn, mode = dial.open(opts, { name = "imap", framing = "imap", port = 143, implicit_port = 993 })
  local s = M.wrap(conn, opts)
  if mode == "starttls" then s:starttls() end
  return s
end

---------------------------------------------------------------------------------------------
-- Any state

--- A command with automatic tag.
-- @param cmd the command text after the tag ("NOOP", "UID FETCH 1:* FLAGS"), or a table
--   whose first element is the command name and the rest arguments, encoded as `imap.encode`
--   does (`{"LOGIN", user, pass}`, `{"SELECT", mailbox}`)
-- @param opts optional `{expect=, timeout=}`
-- @return the tagged result (`status`, `code`, `code_args`, `message`, `text`, `untagged`) and
--   the array of untagged responses, parsed
function Session:command(cmd, opts)
  return run(self, cmd, session.command_options(opts, "imap"))
end

--- CAPABILITY: fills `s.caps` (a set of upper-case names; `s.caps.AUTH` the set of SASL
-- mechanisms) and `s.caps_list`.
-- @return the caps table (nil when the server answered NO or BAD and `expect=` allowed it),
--   and the tagged result
function Session:capability(opts)
  local r = run(self, "CAPABILITY", opts)
  if r.status ~= "OK" then return nil, r end
  return self.caps, r
end

--- The server's capabilities: CAPABILITY when they are not known yet (the same call in
-- every protocol).
-- @param opts optional `{expect=, timeout=, refresh=true}`
-- @return the caps table (nil when the server refused), and the tagged result (nil when
--   known already)
function Session:capabilities(opts)
  if self.caps and not (opts and opts.refresh) then return self.caps, nil end
  return self:capability(opts)
end

local function caps(s)
  if not s.caps then s:capability() end
  return s.caps or {}
end

--- NOOP (also collects pending untagged data: new messages, flag changes).
-- @return the tagged result and the untagged responses
function Session:noop(opts)
  return run(self, "NOOP", opts)
end

--- LOGOUT: expects BYE and OK, then closes the connection. `quit` is the same call (the
-- name every protocol has).
function Session:logout(opts)
  local r, u = run(self, "LOGOUT", opts)
  self.conn:close()
  return r, u
end
Session.quit = Session.logout

--- STARTTLS: upgrades the connection, then asks CAPABILITY again (unless `caps=false`).
-- Fails with exit 3 when the server does not offer STARTTLS or refuses it.
-- @param opts optional TLS options (`sni`, `verify`, `ca`, ...; default: those of connect),
--   `caps` (false: do not ask CAPABILITY again; the old spelling `capability=false` works
--   too), `expect` (a refusal matching it is returned instead of failing), `timeout`
function Session:starttls(opts)
  opts = opts or {}
  if self.conn.tls then misuse("starttls: the connection is under TLS already") end
  local requery = session.requery(opts, "imap")
  if not caps(self).STARTTLS and opts.expect == nil then
    self.conn:close()
    parley.raise(3, "security", "STARTTLS asked for but not offered by " .. self.conn.peer ..
      " (CAPABILITY: " .. table.concat(self.caps_list or {}, " ") .. "); not continuing in the clear")
  end
  local r = run(self, "STARTTLS", { expect = function() return true end, timeout = opts.timeout })
  -- A refusal the script wants is returned; any other is exit 3, expect= or not.
  if r.status ~= "OK" and opts.expect ~= nil and tagged_matcher(opts.expect)(r) then return r end
  if r.status ~= "OK" then
    self.conn:close()
    parley.raise(3, "security", "STARTTLS refused by " .. self.conn.peer .. ": " .. r.text ..
      "; not continuing in the clear")
  end
  self.conn:starttls(dial.merged_tls_options(self.opts, opts))
  self.caps, self.caps_list = nil, nil
  if requery then self:capability() end
  return r
end

---------------------------------------------------------------------------------------------
-- Not authenticated

local function after_login(s, r)
  if r.status ~= "OK" then return end
  s.authenticated = true
  if r.code ~= "CAPABILITY" then s.caps, s.caps_list = nil, nil end
end

--- LOGIN with user name and password, each sent as a quoted string or a literal as needed
-- (the password is a secret: `****` in transcripts). A server that advertises LOGINDISABLED
-- is not sent the password (exit 3) unless `expect=` is given.
-- @param opts optional `{expect=, timeout=}`
-- @return the tagged result
function Session:login(user, password, opts)
  opts = opts or {}
  if password == nil then misuse("login: no password given") end
  if self.caps and self.caps.LOGINDISABLED and opts.expect == nil then
    parley.raise(3, "security", "LOGIN: " .. self.conn.peer .. " advertises LOGINDISABLED " ..
      "(it wants TLS first, see starttls); the password was not sent")
  end
  local pw = parley.secret(tostring(password))
  local name = tostring(user)
  local r = run(self, { "LOGIN", M.quoted(name), M.quoted(pw) },
    { expect = opts.expect, timeout = opts.timeout, what = "LOGIN " .. tostring(user) })
  after_login(self, r)
  return r
end

local function auth_continue(s, m)
  return function(r)
    local challenge, err = crypto.b64decode((r.continuation or ""):gsub("%s+$", ""))
    local resp, why, kind
    if challenge then
      resp, why, kind = m:step(challenge)
    else
      why = "the challenge is not base64 (" .. err .. ")"
    end
    if not resp then
      s.conn:send("*")
      s._auth_error = { why, kind }
      return
    end
    s.conn:send(#resp == 0 and "" or crypto.b64encode(resp))
  end
end

--- AUTHENTICATE with a SASL mechanism from parley.sasl (the initial response goes with the
-- command when the server offers SASL-IR). SCRAM checks the server's signature (exit 3 when
-- it does not match).
-- @param mech mechanism name, or nil for the strongest that both sides speak
-- @param opts optional: `expect`, `authzid`, `initial` (false: no initial response), `timeout`
-- @return the tagged result
function Session:authenticate(mech, user, password, opts)
  opts = opts or {}
  if mech == nil then
    mech = sasl.choose(caps(self).AUTH or {})
    if not mech then parley.raise(1, "expect", "AUTHENTICATE: no SASL mechanism in common with " .. self.conn.peer) end
  end
  local m = sasl.start(mech, user, password, opts)
  local line = "AUTHENTICATE " .. m.name
  if opts.initial ~= false and m:has_initial() and self.caps and self.caps["SASL-IR"] then
    local ir = m:initial()
    line = line .. " " .. (#ir == 0 and "=" or crypto.b64encode(ir))
  end
  self._auth_error = nil
  local tag = next_tag(self)
  self.conn:send(tag .. " " .. line)
  local what = "AUTHENTICATE " .. m.name
  local r = collect(self, tag, what, opts.timeout, {}, auth_continue(self, m))
  local failure = self._auth_error
  if failure then
    if failure[2] == "security" then self.conn:close() end
    parley.raise(failure[2] == "security" and 3 or 1, failure[2] or "protocol", what .. ": " .. failure[1])
  end
  check_tagged(self, what, opts.expect, r)
  if r.status == "OK" then
    local ok, err = m:finish()
    if not ok then
      self.conn:close()
      parley.raise(3, "security", what .. ": " .. err)
    end
  end
  after_login(self, r)
  return r
end

--- Same as `authenticate` (the name every protocol has).
Session.auth = Session.authenticate

---------------------------------------------------------------------------------------------
-- Plumbing

--- Reads one response and parses it, without checking; a timeout or the end of the
-- connection fails the conversation (see `read_reply` for a call that returns them).
function Session:read_response(timeout)
  local r = read(self, "read", timeout)
  if r.tag == "*" then absorb(self, r) end
  return r
end

--- Reads one response without checking it, parsed (`tag`, `status`, `text`, `type`, ...;
-- untagged data updates the session as usual), for reading by hand after `s:send`.
-- @return the response, or nil and "timeout" or "eof"
function Session:read_reply(timeout)
  local unit, why = self.conn:read_reply(timeout)
  if not unit then return nil, why end
  local r = M.parse_response(unit)
  if r.tag == "*" then absorb(self, r) end
  return r
end

return M
