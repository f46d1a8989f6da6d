--- A mock SMTP / submission server that real clients (swaks, curl, mail user agents) can use.
--
--     local smtp = require "parley.mock.smtp"
--     local m = smtp.start {
--       port = 0, tls = "starttls", users = { alice = "secret" },
--       on = { RCPT = function(cmd, s)
--         if cmd.address == "bob@example.net" then return "550 5.1.1 <bob@example.net>: no" end
--       end },
--     }
--     -- connect to m.port ...; the mail lands in m.store
--     m:stop()
--
-- It speaks EHLO/HELO, STARTTLS, AUTH PLAIN / LOGIN / CRAM-MD5 (against `users`), MAIL, RCPT,
-- DATA (dot-unstuffed), BDAT, RSET, NOOP, VRFY, HELP and QUIT. Mail for `USER@any-domain` of
-- each user is accepted into the store, other recipients are refused with 550 5.1.1.
--
-- Options besides those of every mock (see `parley.mock.server`): `capabilities` (a list of
-- EHLO keywords replacing the default, or a function `fn(list, session)` returning the list;
-- the old spelling `extensions` still works, with a deprecation warning under --strict),
-- `advertise_starttls` (false: do not list STARTTLS although it works), `auth_required`
-- (MAIL needs AUTH first), `require_tls` (everything but EHLO/HELO/STARTTLS/NOOP/RSET/QUIT
-- needs TLS first), `max_size` (bytes of a message, DATA or all its BDAT chunks, default
-- 10 MB), `max_recipients` (default 100). Only <CRLF>.<CRLF> ends DATA (the fault
-- `DATA = { bare_lf_end = true }` emulates a server open to SMTP smuggling).
-- Hook keys: `greeting`, every verb, and `message` (the reply after the message data; `cmd`
-- has `text`, `from`, `rcpts`).
-- @module parley.mock.smtp

local base = require "parley.mock.server"

local M = {}

local HANGUP = base.HANGUP
local shown = base.shown

-- Postfix-like replies.
local function greeting(s)
  return "220 " .. s.server.hostname .. " ESMTP parley mock ready"
end

local handler = {
  line_prefix = "250 ",
  continuation_prefix = "250-",
}

function handler.too_long(s)
  return "500 5.5.0 Error: line too long"
end

function handler.idle_reply(s)
  return "421 4.4.2 " .. s.server.hostname .. " Error: timeout exceeded"
end

function handler.busy_reply(srv)
  return "421 4.7.0 " .. srv.hostname .. " Error: too many connections, try again later"
end

function handler.error_reply(s)
  return "451 4.3.0 Error: internal error in the mock server"
end

function handler.closes(s, last)
  return last:match("^421") ~= nil
end

local function extensions(s)
  local srv, opts = s.server, s.server.opts
  local list = { "PIPELINING", "SIZE " .. (opts.max_size or 10240000), "ETRN" }
  if srv.tls == "starttls" and not s:is_tls() and opts.advertise_starttls ~= false then
    list[#list + 1] = "STARTTLS"
  end
  if not s:auth_needs_tls() then
    list[#list + 1] = "AUTH " .. table.concat(base.MECHANISMS, " ")
  end
  for _, e in ipairs { "ENHANCEDSTATUSCODES", "8BITMIME", "CHUNKING", "SMTPUTF8" } do
    list[#list + 1] = e
  end
  local ext = opts.capabilities
  if ext == nil and opts.extensions ~= nil then  -- the old spelling
    require("parley.session").deprecated("mock smtp option extensions=", "capabilities=")
    ext = opts.extensions
  end
  if type(ext) == "table" then
    list = ext
  elseif type(ext) == "function" then
    list = ext(list, s) or list
  end
  return list
end

local function offers(s, keyword)
  for _, e in ipairs(extensions(s)) do
    if e:upper():match("^" .. keyword) then return e end
  end
  return nil
end

local function redact(line)
  local verb, rest = base.verb_arg(line)
  if verb:upper() == "AUTH" then
    local w = base.words(rest, 2)
    if w[2] then return "AUTH " .. shown(w[1]) .. " ****" end
  end
  return shown(line)
end

-- The address in "FROM:<addr> PARAMS" / "TO:<addr> PARAMS", and the parameters.
local function path(arg, keyword)
  if arg:sub(1, #keyword):upper() ~= keyword then return nil end
  local rest = arg:sub(#keyword + 1):gsub("^%s+", "")
  local addr, params = rest:match("^<([^<>]*)>(.*)$")
  if not addr then return nil end
  if addr:find("%c") then return nil end
  return addr, params
end

-- The value of parameter `name` in "SIZE=100 BODY=8BITMIME" (one pass over the words).
local function param(params, name)
  for _, w in ipairs((base.words(params, 32))) do
    local eq = w:find("=", 2, true)
    if eq and w:sub(1, eq - 1):upper() == name then return w:sub(eq + 1) end
  end
  return nil
end

local needs_tls_ok = { EHLO = true, HELO = true, STARTTLS = true, NOOP = true, RSET = true, QUIT = true }

local commands = {}

function commands.EHLO(s, cmd)
  if cmd.arg == "" then return s:emit("EHLO", "501 5.5.4 Syntax: EHLO hostname") end
  s.helo, s.esmtp, s.tx = cmd.arg, true, nil
  local lines = { s.server.hostname .. " greets " .. shown(cmd.arg) }
  for _, e in ipairs(extensions(s)) do lines[#lines + 1] = e end
  for i, l in ipairs(lines) do lines[i] = (i < #lines and "250-" or "250 ") .. l end
  s:emit("EHLO", lines)
end

function commands.HELO(s, cmd)
  if cmd.arg == "" then return s:emit("HELO", "501 5.5.4 Syntax: HELO hostname") end
  s.helo, s.esmtp, s.tx = cmd.arg, false, nil
  s:emit("HELO", "250 " .. s.server.hostname)
end

function commands.STARTTLS(s, cmd)
  if s.server.tls ~= "starttls" then
    return s:emit("STARTTLS", "502 5.5.1 Error: command not implemented")
  end
  if s:is_tls() then return s:emit("STARTTLS", "503 5.5.1 Error: TLS already active") end
  if cmd.arg ~= "" then return s:emit("STARTTLS", "501 5.5.4 Syntax: STARTTLS") end
  if s:injected("STARTTLS") then
    s:emit("STARTTLS", "554 5.5.1 Error: commands pipelined after STARTTLS (refused)")
    error(HANGUP, 0)
  end
  s:emit("STARTTLS", "220 2.0.0 Ready to start TLS")
  s:handshake()
  s.helo, s.esmtp, s.tx, s.user = nil, nil, nil, nil
end

function commands.AUTH(s, cmd)
  if not s.esmtp then return s:emit("AUTH", "503 5.5.1 Error: send EHLO first") end
  if s.user then return s:emit("AUTH", "503 5.5.1 Error: already authenticated") end
  if s.tx then return s:emit("AUTH", "503 5.5.1 Error: MAIL transaction in progress") end
  if s:auth_needs_tls() then
    return s:emit("AUTH", "538 5.7.11 Encryption required for requested authentication mechanism")
  end
  local mech, initial = base.split_words(cmd.arg, 1, 2)
  if not mech then return s:emit("AUTH", "501 5.5.4 Syntax: AUTH mechanism") end
  local offered = offers(s, "AUTH")
  local known = false
  for m in (offered or ""):gmatch("%S+") do
    if m:upper() == mech:upper() and m:upper() ~= "AUTH" then known = true end
  end
  if not known then
    return s:emit("AUTH", "504 5.5.4 Error: authentication mechanism not supported")
  end
  local user, why = s:sasl(mech, initial, function(text)
    s:emit("AUTH", "334 " .. base.b64(text))
    local line = s:read_line()
    s:log("****")
    return line
  end)
  if user then
    s.user = user
    s:log("authenticated as " .. user)
    return s:emit("AUTH", "235 2.7.0 Authentication successful")
  end
  s:log("authentication failed (" .. why .. ")" .. (s.sasl_user and " for " .. shown(s.sasl_user) or ""))
  if why == "cancelled" then return s:emit("AUTH", "501 5.7.0 Authentication cancelled") end
  if why == "malformed" then return s:emit("AUTH", "501 5.5.2 Cannot decode response") end
  if why == "authzid" then
    return s:emit("AUTH", "535 5.7.8 Error: authentication failed: not authorized to act as that user")
  end
  return s:emit("AUTH", "535 5.7.8 Error: authentication failed")
end

function commands.MAIL(s, cmd)
  local opts = s.server.opts
  if not s.helo then return s:emit("MAIL", "503 5.5.1 Error: send HELO/EHLO first") end
  if s.tx then return s:emit("MAIL", "503 5.5.1 Error: nested MAIL command") end
  if opts.auth_required and not s.user then
    return s:emit("MAIL", "530 5.7.0 Authentication required")
  end
  local addr, params = path(cmd.arg, "FROM:")
  if not addr then return s:emit("MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>") end
  local size = tonumber(param(params, "SIZE") or "")
  if size and size > (opts.max_size or 10240000) then
    return s:emit("MAIL", "552 5.3.4 Message size exceeds fixed limit")
  end
  s.tx = { from = addr, rcpts = {}, users = {} }
  s:emit("MAIL", "250 2.1.0 Ok")
end

function commands.RCPT(s, cmd)
  if not s.tx then return s:emit("RCPT", "503 5.5.1 Error: need MAIL command") end
  local addr = path(cmd.arg, "TO:")
  if not addr then return s:emit("RCPT", "501 5.5.4 Syntax: RCPT TO:<address>") end
  if #s.tx.rcpts >= (s.server.opts.max_recipients or 100) then
    return s:emit("RCPT", "452 4.5.3 Error: too many recipients")
  end
  local user = s.server:user_for_address(addr)
  if not user then
    return s:emit("RCPT", "550 5.1.1 <" .. addr ..
      ">: Recipient address rejected: User unknown in local recipient table")
  end
  s.tx.rcpts[#s.tx.rcpts + 1] = addr
  s.tx.users[#s.tx.users + 1] = user
  s:emit("RCPT", "250 2.1.5 Ok")
end

local function deliver(s, text)
  local tx = s.tx
  s.tx = nil
  local max = s.server.opts.max_size or 10240000
  if #text > max then return s:emit("message", "552 5.3.4 Message size exceeds fixed limit") end
  local ev = { verb = "message", text = text, from = tx.from, rcpts = tx.rcpts, users = tx.users }
  if s:hook("message", ev) then return end
  local seen, first = {}, nil
  for _, user in ipairs(tx.users) do
    if not seen[user] then
      seen[user] = true
      local m = s.server.store:deliver(user, text, { from = tx.from, to = tx.rcpts })
      first = first or m
    end
  end
  local id = string.format("%X%04X", os.time() % 0x100000, s.server.store.delivered % 0x10000)
  s:log(string.format("message of %d bytes from <%s> for %s: queued as %s", #text,
    shown(tx.from), table.concat(tx.users, ", "), id))
  s:emit("message", "250 2.0.0 Ok: queued as " .. id)
end

local function max_size(s)
  return s.server.opts.max_size or 10240000
end

-- Whether the `DATA = { bare_lf_end = true }` fault makes the mock take a bare LF for a line
-- end inside DATA, as servers open to SMTP smuggling did (CVE-2023-51766 and its siblings).
local function lax_data_end(s)
  local f = s.server.faults.DATA
  return f ~= nil and f.bare_lf_end == true
end

function commands.DATA(s, cmd)
  if not s.tx then return s:emit("DATA", "503 5.5.1 Error: need MAIL command") end
  if #s.tx.rcpts == 0 then return s:emit("DATA", "554 5.5.1 Error: no valid recipients") end
  if cmd.arg ~= "" then return s:emit("DATA", "501 5.5.4 Syntax: DATA") end
  if s.tx.bdat then return s:emit("DATA", "503 5.5.1 Error: BDAT in progress") end
  s:emit("DATA", "354 End data with <CR><LF>.<CR><LF>")
  -- Only <CRLF>.<CRLF> ends the data: a line ended by a bare LF is joined to the next, so
  -- "<LF>.<LF>" stays inside the message instead of ending it (no SMTP smuggling).
  local lax = lax_data_end(s)
  local lines, size, max = {}, 0, max_size(s)
  local pieces = nil -- parts of a line, so far ended by bare LFs
  while true do
    local line, bare = s:read_line()
    if bare and not lax then
      pieces = pieces or {}
      size = size + #line + 1
      if size <= max then pieces[#pieces + 1] = line end
    else
      if pieces then
        pieces[#pieces + 1] = line
        line = table.concat(pieces, "\n")
        pieces = nil
      elseif line == "." then
        break
      end
      if line:sub(1, 1) == "." then line = line:sub(2) end
      size = size + #line + 2
      if size <= max then lines[#lines + 1] = line end
    end
  end
  if size > max then
    s.tx = nil
    s:log(string.format("message of %d bytes refused: over the %d byte limit", size, max))
    return s:emit("message", "552 5.3.4 Message size exceeds fixed limit")
  end
  deliver(s, #lines > 0 and table.concat(lines, "\r\n") .. "\r\n" or "")
end

-- BDAT size [LAST]: SIZE limits the message (the running total of its chunks), and a chunk
-- that would go over it is read and dropped, never held.
function commands.BDAT(s, cmd)
  local w, more = base.words(cmd.arg, 2)
  local digits, last = w[1], w[2]
  local n = digits and #digits <= 15 and digits:find("^%d+$") and tonumber(digits)
  if not n or more or (last and last:upper() ~= "LAST") then
    return s:emit("BDAT", "501 5.5.4 Syntax: BDAT size [LAST]")
  end
  local tx, max = s.tx, max_size(s)
  if not tx or #tx.rcpts == 0 or tx.oversize or (tx.size or 0) + n > max then
    s:skip_bytes(n)
    if not tx then return s:emit("BDAT", "503 5.5.1 Error: need MAIL command") end
    if #tx.rcpts == 0 then return s:emit("BDAT", "554 5.5.1 Error: no valid recipients") end
    if not tx.oversize then
      s:log(string.format("message over the %d byte limit: chunks dropped", max))
    end
    tx.bdat, tx.oversize, tx.chunks = true, true, nil
    if last then s.tx = nil end
    return s:emit("BDAT", "552 5.3.4 Message size exceeds fixed limit")
  end
  tx.bdat = true
  tx.chunks = tx.chunks or {}
  s:read_pieces(n, tx.chunks)
  tx.size = (tx.size or 0) + n
  if not last then return s:emit("BDAT", "250 2.0.0 " .. n .. " octets received") end
  local text = table.concat(tx.chunks)
  tx.chunks = nil
  deliver(s, text)
end

function commands.RSET(s, cmd)
  s.tx = nil
  s:emit("RSET", "250 2.0.0 Ok")
end

function commands.NOOP(s, cmd)
  s:emit("NOOP", "250 2.0.0 Ok")
end

function commands.VRFY(s, cmd)
  s:emit("VRFY", "252 2.0.0 Cannot VRFY user, but will accept message")
end

function commands.EXPN(s, cmd)
  s:emit("EXPN", "502 5.5.1 Error: EXPN not supported")
end

function commands.HELP(s, cmd)
  s:emit("HELP", "214 2.0.0 parley mock SMTP: see RFC 5321")
end

function commands.ETRN(s, cmd)
  s:emit("ETRN", "250 2.0.0 Queuing started")
end

function commands.QUIT(s, cmd)
  s:emit("QUIT", "221 2.0.0 Bye")
  error(HANGUP, 0)
end

function handler.serve(s)
  if not s:hook("greeting", { verb = "greeting", arg = "", line = "" }) then
    s:emit("greeting", greeting(s))
  end
  local errors = 0
  while true do
    local line = s:read_line()
    s:log(redact(line))
    local verb, arg = base.verb_arg(line)
    verb = verb:upper()
    local cmd = { verb = verb, arg = arg, line = line }
    if verb == "MAIL" then cmd.address = path(cmd.arg, "FROM:") end
    if verb == "RCPT" then cmd.address = path(cmd.arg, "TO:") end
    if not s:hook(verb, cmd) then
      local fn = commands[verb]
      if s.server.opts.require_tls and not s:is_tls() and fn and not needs_tls_ok[verb] then
        s:emit(verb, "530 5.7.0 Must issue a STARTTLS command first")
      elseif fn then
        fn(s, cmd)
      else
        errors = errors + 1
        if errors >= 20 then
          s:emit(verb, "421 4.7.0 " .. s.server.hostname .. " Error: too many errors")
          error(HANGUP, 0)
        end
        s:emit(verb ~= "" and verb or "*", "500 5.5.2 Error: command not recognized")
      end
    end
  end
end

--- Starts a mock SMTP server. See the module description and `parley.mock.server` for the
-- options.
-- @return the server object (`port`, `store`, `stop()`, ...)
function M.start(opts)
  return base.start("smtp", opts, handler)
end

return M
