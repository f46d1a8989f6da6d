--- `parley shell`: the telnet session, done right. What is typed is sent as a line and the
-- reply is shown as the transcript shows it, with the meaning of its code; commands starting
-- with "." do what the guides did by hand (STARTTLS in the middle, AUTH without base64 typed
-- from perl) and `.save FILE` writes the session as a conversation script that `parley run`
-- replays.
--
-- The terminal comes from `parley.term` (src/cli/cmd_shell.cpp): `readline`, `password`
-- (no echo), `interrupted` (Ctrl-C since the last call), `add_history`, `interactive`.
--
-- @module parley.shell

local parley = require "parley"

local M = {}

local PORTS = { [25] = "smtp", [587] = "smtp", [465] = "smtp", [2525] = "smtp",
  [110] = "pop3", [995] = "pop3", [143] = "imap", [993] = "imap" }
local IMPLICIT = { [465] = true, [995] = true, [993] = true }
local DEFAULT_PORT = { smtp = 25, pop3 = 110, imap = 143 }
local TICK = 0.25   -- how often a wait looks for Ctrl-C

local HELP = [[
commands (a line that starts with "." is one of these; type ".." to send a line starting with ".";
a line of a single "." is sent as it is: it ends DATA):
  .starttls            STARTTLS (STLS in POP3) and the TLS handshake on this connection
  .auth MECH USER      AUTH / AUTHENTICATE with PLAIN, LOGIN, CRAM-MD5, XOAUTH2 or SCRAM-SHA-256;
                       the password is asked without echo (piped: the next line, or PARLEY_PASSWORD)
  .tls                 the TLS facts: version, cipher, certificate, verification
  .explain CODE        what a reply code means (250, 5.7.1, "550 5.1.1", IN-USE)
  .send FILE           (SMTP, after DATA's 354) the message in FILE, dot-stuffed, and the final "."
  .save FILE           the session so far as a script for `parley run` (no password in it)
  .help                this list
  .quit                end the session (Ctrl-D too)
Ctrl-C stops waiting for a reply; the session goes on.]]

local function usage(msg)
  parley.raise(2, "script", "shell: " .. msg)
end

---------------------------------------------------------------------------------------------
-- Output

local Shell = {}
Shell.__index = Shell

function Shell:note(text)
  -- A dim note under the reply (stderr, beside the transcript, so that they stay in order).
  if self.color then
    io.stderr:write("\27[2m    # ", text, "\27[0m\n")
  else
    io.stderr:write("    # ", text, "\n")
  end
  io.stderr:flush()
end

function Shell:say(text)
  io.stderr:write("=== ", text, "\n")
  io.stderr:flush()
end

local codes_mod
local function codes()
  if codes_mod == nil then
    local ok, m = pcall(require, "parley.codes")
    codes_mod = ok and m or false
  end
  return codes_mod or nil
end

function Shell:explain_reply(r)
  local cm = codes()
  local meaning = cm and cm.meaning(r)
  if meaning then self:note(meaning) end
end

---------------------------------------------------------------------------------------------
-- Errors of library calls: shown, and the session goes on unless the connection is gone.

local function error_parts(err)
  if type(err) == "table" then
    return tonumber(err.exit) or 2, tostring(err.message or "?")
  end
  return 2, tostring(err)
end

-- Runs fn; a failure is reported. Network and TLS failures (exit 3) end the session.
function Shell:try(fn, ...)
  local res = table.pack(pcall(fn, ...))
  if res[1] then return true, table.unpack(res, 2, res.n) end
  local exit, msg = error_parts(res[2])
  if exit == 3 then
    self.ended, self.error = 3, res[2]   -- the end of the session reports it
  else
    io.stderr:write("parley: ", parley.mask(msg), "\n")
    if not self.c:is_open() then self.ended = 0 end
  end
  return false
end

---------------------------------------------------------------------------------------------
-- Waiting for replies

-- One unit, waiting in short steps so that Ctrl-C can stop the wait. Returns the reply, or
-- nil and "eof" | "timeout" | "interrupt".
function Shell:read(timeout)
  local deadline = parley.clock() + (timeout or self.timeout)
  self.term.interrupted()
  while true do
    local left = deadline - parley.clock()
    if left <= 0 then return nil, "timeout" end
    local r, why = self.c:read_reply(math.min(TICK, left))
    if r then
      if self.proto == "imap" then r = require("parley.imap").parse_response(r) end
      return r
    end
    if why ~= "timeout" then return nil, why end
    if self.term.interrupted() then return nil, "interrupt" end
  end
end

-- What ended a wait without the reply: said, and the session ends at EOF.
function Shell:no_reply(why)
  if why == "eof" or why == "closed" then
    self:say("the server closed the connection")
    self.ended = 0
  elseif why == "interrupt" then
    if self.term.interactive then io.stderr:write("\n") end   -- after the terminal's ^C
    self:say("stopped waiting (a late reply shows before the next one)")
  else
    self:say(string.format("no reply within %g s; still connected", self.timeout))
  end
end

-- Reads what the protocol says answers `line` (sent with tag `tag` in IMAP). Returns the
-- final reply (or nil when the wait ended otherwise).
function Shell:await(tag)
  if self.proto == "imap" then
    while true do
      local r, why = self:read()
      if not r then return self:no_reply(why) end
      if r.tag == "+" then return r end
      if r.tag ~= "*" and (tag == nil or r.tag == tag) then
        self:explain_reply(r)
        return r
      end
      if r.tag == "*" and r.status == "BYE" then self.bye = true end
    end
  elseif self.proto == "line" then
    local r, why = self:read()
    if not r then return self:no_reply(why) end
    -- Whatever else arrives soon after belongs to the same answer.
    while true do
      local more = self.c:read_reply(0.2)
      if not more then break end
    end
    return r
  end
  local r, why = self:read()
  if not r then return self:no_reply(why) end
  self:explain_reply(r)
  return r
end

-- Replies that came while nobody waited (after Ctrl-C, or unasked): shown before a new line
-- is sent, and kept in the saved script as reads.
function Shell:drain()
  while self.c:pending() > 0 do
    local r = self.c:read_reply(0.05)
    if not r then break end
    self:explain_reply(r)
    self:record { t = "read" }
  end
end

---------------------------------------------------------------------------------------------
-- The record of the session, for .save

function Shell:record(e)
  self.events[#self.events + 1] = e
end

-- POP3 commands whose +OK starts a multi-line answer.
local function pop3_block(line)
  local verb, arg = line:match("^(%S+)%s*(.-)%s*$")
  verb = (verb or ""):upper()
  if verb == "CAPA" or verb == "RETR" or verb == "TOP" then return true end
  if (verb == "LIST" or verb == "UIDL") and arg == "" then return true end
  if verb == "AUTH" and arg == "" then return true end
  return false
end

-- Credentials typed by hand: kept out of the history, masked in the transcript and not
-- written by .save. Whatever --proto says (a POP3 server reached as "smtp" still gets PASS).
-- Returns a description and the length of the part that stays visible, when `line` holds one.
function Shell:credentials(line)
  if self.continuation then return "an AUTH answer", 0 end
  local upper = line:upper()
  local head = upper:match("^(PASS%s+)") or upper:match("^(APOP%s+)") or upper:match("^(LOGIN%s+)")
  if head then return upper:match("^(%u+)"), #head end
  head = upper:match("^(AUTH%s+%S+%s+)%S") or upper:match("^(AUTHENTICATE%s+%S+%s+)%S")
  if head then return "AUTH", #head end
  head = upper:match("^(%S+%s+LOGIN%s+)")                      -- IMAP: tag LOGIN user pass
  if head then return "LOGIN", #head end
  head = upper:match("^(%S+%s+AUTHENTICATE%s+%S+%s+)%S")       -- IMAP SASL-IR
  if head then return "AUTHENTICATE", #head end
  return nil
end

---------------------------------------------------------------------------------------------
-- Sending what is typed

function Shell:send_line(line)
  self:drain()
  if self.ended then return end
  local cred, visible = self:credentials(line)
  local shown = line
  if cred then
    -- Everything after the command word(s) is a secret: masked in the transcript.
    shown = line:sub(1, visible) .. secret(line:sub(visible + 1))
  end
  if self.proto == "smtp" and self.in_data then
    self.c:send(shown)
    self:record { t = "data", line = line }
    if line == "." then
      self.in_data = false
      local r = self:await()
      if r then self:record { t = "reply", code = r.code } end
    end
    return
  end
  -- IMAP: the tag is the line's first word, or, answering a continuation, the command's.
  local tag = self.proto == "imap" and (self.continuation and self.imap_tag or line:match("^(%S+)")) or nil
  self.imap_tag = tag
  if self.proto == "pop3" and pop3_block(line) then self.c:want_block() end
  self.c.last_command = line:match("^(%S+)") or line
  self.c:send(shown)
  local r = self:await(tag)
  if not r then
    self:record { t = cred and "secret" or "sent", line = not cred and line or nil, what = cred }
    return
  end
  self.continuation = (self.proto == "smtp" and r.code == 334) or
    ((self.proto == "pop3" or self.proto == "imap") and (r.tag == "+" or r.status == "+")) or nil
  if cred == "PASS" and self.proto == "pop3" and r.status ~= "+" then
    self:record { t = "pass", status = r.status }            -- s:pass(password)
  elseif cred == "LOGIN" and self.proto == "imap" and r.tag ~= "+" then
    local user = line:match("^%S+%s+%S+%s+(%S+)") or ""
    self:record { t = "login", user = user:match('^"(.*)"$') or user, status = r.status }
  elseif cred then
    self:record { t = "secret", what = cred }
  else
    local e = { t = "cmd", line = line, block = self.proto == "pop3" and pop3_block(line) or nil }
    if self.proto == "smtp" then e.code = r.code
    elseif self.proto == "pop3" then e.status = r.status
    elseif self.proto == "imap" then e.status = r.tag == "+" and "+" or r.status end
    self:record(e)
  end
  if self.proto == "smtp" and r.code == 354 then self.in_data = true end
  if (self.proto == "smtp" and r.code == 221) or (self.proto == "pop3" and line:upper():match("^QUIT"))
      or self.bye then
    local more, why = self.c:read_reply(2)
    if not more and (why == "eof" or why == "closed") then
      self:say("the server closed the connection")
      self.ended = 0
    end
  end
end

---------------------------------------------------------------------------------------------
-- Dot-commands

function Shell:tls_options()
  return { sni = self.opts.sni, ca = self.opts.ca, verify = self.opts.verify }
end

-- The certificate and its check (`full`: with the version and cipher, which the transcript
-- shows already after a handshake).
function Shell:show_tls(full)
  local t = self.c.tls
  if not t then
    self:say("not under TLS (.starttls upgrades the connection)")
    return
  end
  local lines = {}
  if full then lines[1] = string.format("%s, %s", tostring(t.version), tostring(t.cipher)) end
  if t.cert then
    lines[#lines + 1] = "certificate: " .. tostring(t.cert.subject)
    lines[#lines + 1] = "  issuer: " .. tostring(t.cert.issuer)
    if t.cert.sans and #t.cert.sans > 0 then
      lines[#lines + 1] = "  names: " .. table.concat(t.cert.sans, ", ")
    end
    lines[#lines + 1] = "  valid: " .. tostring(t.cert.not_before) .. " to " .. tostring(t.cert.not_after)
    lines[#lines + 1] = "  sha256: " .. tostring(t.cert.sha256)
  end
  if t.verified then
    lines[#lines + 1] = "verification: ok"
  else
    lines[#lines + 1] = "verification: FAILED (" .. tostring(t.verify_error or "not checked") ..
      ") - accepted because of --no-verify"
  end
  for _, l in ipairs(lines) do self:say(l) end
end

function Shell:starttls()
  if self.c.tls then return self:say("already under TLS") end
  local verb = ({ smtp = "STARTTLS", pop3 = "STLS", imap = "STARTTLS" })[self.proto]
  if not verb then return self:say(".starttls: not for --proto line") end
  self:drain()
  local tag = nil
  local line = verb
  if self.proto == "imap" then
    self.tag_count = self.tag_count + 1
    tag = "S" .. self.tag_count
    line = tag .. " " .. verb
  end
  self.c.last_command = verb
  self.c:send(line)
  local r = self:await(tag)
  if not r then return end
  local ok = (self.proto == "smtp" and r.code == 220) or (self.proto == "pop3" and r.status == "+OK") or
    (self.proto == "imap" and r.status == "OK")
  if not ok then
    self:record { t = "cmd", line = line, code = r.code, status = r.status }
    return self:say(verb .. " refused: still in the clear")
  end
  if self:try(self.c.starttls, self.c, self:tls_options()) then
    self:record { t = "starttls", verb = verb }
    self:show_tls()
  end
end

function Shell:password(user)
  local env = os.getenv("PARLEY_PASSWORD")
  if env and env ~= "" then return secret(env) end
  local pw, why = self.term.password("Password for " .. user .. ": ")
  if not pw then
    if why == "interrupt" then return nil end
    self:say("no password given")
    return nil
  end
  return secret(pw)
end

local MECHS = { PLAIN = true, LOGIN = true, ["CRAM-MD5"] = true, XOAUTH2 = true,
  ["SCRAM-SHA-256"] = true, ["SCRAM-SHA-1"] = true }

function Shell:session()
  local lib = require("parley." .. self.proto)
  return lib.wrap(self.c, { greeting = false, tag_prefix = "P" })
end

function Shell:auth(args)
  local mech, user = args:match("^(%S+)%s+(%S+)%s*$")
  if not mech then return self:say("usage: .auth MECH USER (e.g. .auth plain alice)") end
  mech = mech:upper()
  if not MECHS[mech] then return self:say(".auth: unknown mechanism " .. mech) end
  if self.proto == "line" then return self:say(".auth: not for --proto line") end
  self:drain()
  local pw = self:password(user)
  if not pw then return end
  local s = self:session()
  local method = self.proto == "imap" and s.authenticate or s.auth
  local ok, r = self:try(method, s, mech, user, pw, { expect = function() return true end })
  if not ok then return end
  self:explain_reply(r)
  local e = { t = "auth", mech = mech, user = user }
  if self.proto == "smtp" then e.code = r.code else e.status = r.status end
  self:record(e)
end

function Shell:send_file(path)
  if self.proto ~= "smtp" or not self.in_data then
    return self:say(".send: only in SMTP, after DATA was answered with 354")
  end
  local f, err = io.open(path, "rb")
  if not f then return self:say(".send: " .. tostring(err)) end
  local text = f:read("a")
  f:close()
  text = text:gsub("\r?\n", "\r\n")
  if #text > 0 and text:sub(-2) ~= "\r\n" then text = text .. "\r\n" end
  local smtp = require "parley.smtp"
  self.c:send_raw(smtp.dot_stuff(text) .. ".\r\n")
  self.in_data = false
  self:record { t = "file", text = text }
  local r = self:await()
  if r then self:record { t = "reply", code = r.code } end
end

function Shell:explain(what)
  local cm = codes()
  local text, err = cm.explain(what)
  if text then io.stderr:write(text, "\n") else self:say(tostring(err)) end
end

---------------------------------------------------------------------------------------------
-- .save: the session as a conversation script (parley.shell.script)

function Shell:script()
  return require("parley.shell.script").script(self)
end

function Shell:save(path)
  if path == "" then return self:say("usage: .save FILE") end
  local f, err = io.open(path, "w")
  if not f then return self:say(".save: " .. tostring(err)) end
  f:write(self:script())
  f:close()
  self:say("saved to " .. path .. " (parley run " .. path .. ")")
end

---------------------------------------------------------------------------------------------
-- The session

function Shell:command(line)
  local name, rest = line:match("^%.(%S*)%s*(.-)%s*$")
  name = name:lower()
  if name == "help" or name == "h" or name == "?" then io.stderr:write(HELP, "\n")
  elseif name == "quit" or name == "exit" or name == "q" then self.ended = 0
  elseif name == "starttls" then self:starttls()
  elseif name == "auth" then self:auth(rest)
  elseif name == "tls" then self:show_tls(true)
  elseif name == "explain" then self:explain(rest)
  elseif name == "send" then self:send_file(rest)
  elseif name == "save" then self:save(rest)
  else self:say("unknown command ." .. name .. " (.help lists them; \"..\" sends a line starting with \".\")")
  end
end

local function options(a)
  local o = { host = a.host, unix = a.unix, ca = a.ca, sni = a.sni }
  o.verify = a.verify ~= "0"
  o.tls = a.tls == "1"
  if a.port then
    o.port = math.tointeger(tonumber(a.port))
    if not o.port or o.port < 1 or o.port > 65535 then usage("bad port " .. string.format("%q", a.port)) end
  end
  o.proto = a.proto and a.proto:lower() or (o.port and PORTS[o.port]) or "smtp"
  if o.proto ~= "smtp" and o.proto ~= "pop3" and o.proto ~= "imap" and o.proto ~= "line" then
    usage("--proto must be smtp, pop3, imap or line, not " .. string.format("%q", a.proto))
  end
  if not o.port and not o.unix then o.port = DEFAULT_PORT[o.proto] or 25 end
  if o.port and IMPLICIT[o.port] and a.tls == nil and not a.proto then o.tls = true end
  return o
end

--- Runs the session; its end is the script's end (exit 0), or exit 3 on a network/TLS error.
function M.main(a)
  local term = require "parley.term"
  local o = options(a)
  local spec = { framing = o.proto, tls = o.tls, sni = o.sni, ca = o.ca, verify = o.verify }
  if o.unix then spec.path = o.unix else spec.host, spec.port = o.host, o.port end
  local c = connect(spec)
  local self = setmetatable({ c = c, term = term, opts = o, proto = o.proto, events = {},
    tag_count = 0, color = a.color == "1", timeout = c.timeout or 30 }, Shell)
  if c.tls then self:show_tls() end
  if term.interactive then
    self:say("type .help for the commands; Ctrl-D or .quit ends the session")
  end
  self:try(function()
    local g, why = self:read()
    if g then
      self:explain_reply(g)
      self:record { t = "greeting", code = g.code, status = g.status }
    else
      self:no_reply(why)
    end
  end)
  local prompt = ""
  while not self.ended do
    if term.interactive then prompt = o.proto .. (c.tls and " ~> " or " -> ") end
    local line, why = term.readline(prompt)
    if not line then
      if why ~= "interrupt" then
        if term.interactive then io.stderr:write("\n") end   -- after the prompt, at Ctrl-D
        break
      end
    elseif line == "." then
      self:try(self.send_line, self, line)   -- the end of DATA, as in every guide
    elseif line:match("^%.%.") then
      self:send_line(line:sub(2))
    elseif line:match("^%.") then
      term.add_history(line)   -- .auth holds no password: it is asked for apart
      self:command(line)
    elseif line ~= "" or self.in_data or o.proto == "line" then
      if not self:credentials(line) then term.add_history(line) end
      self:try(self.send_line, self, line)
    end
  end
  if self.error then error(self.error, 0) end
  if c:is_open() then c:close() end
end

return M
