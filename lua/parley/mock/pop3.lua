--- A mock POP3 server (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH RFC 5034) over the shared
-- mailbox store.
--
--     local pop3 = require "parley.mock.pop3"
--     local m = pop3.start { users = { alice = "secret" }, store = store, tls = "starttls" }
--
-- It speaks CAPA, STLS, USER/PASS, APOP, AUTH (PLAIN, LOGIN, CRAM-MD5), STAT, LIST, UIDL,
-- RETR, TOP, DELE, RSET, NOOP and QUIT. A session sees the messages of its user as they were
-- at login; messages marked with DELE leave the store at QUIT.
--
-- Options besides those of every mock (see `parley.mock.server`): `capabilities` (a list
-- replacing the CAPA lines, or a function `fn(list, session)` returning it),
-- `advertise_starttls` (false: do not list STLS although it works; the old spelling
-- `advertise_stls` still works, with a deprecation warning under --strict),
-- `require_tls` (no login
-- before STLS). Hook keys: `greeting` and every command.
-- @module parley.mock.pop3

local base = require "parley.mock.server"
local crypto = require "parley.crypto"

local M = {}

local HANGUP = base.HANGUP
local shown = base.shown

local handler = { line_prefix = "+OK ", continuation_prefix = "+OK " }

function handler.too_long(s) return "-ERR line too long" end
function handler.idle_reply(s) return "-ERR autologout: idle for too long" end
function handler.error_reply(s) return "-ERR [SYS/TEMP] internal error in the mock server" end
function handler.closes(s, last) return false end
function handler.busy_reply(srv) return "-ERR [SYS/TEMP] too many connections, try again later" end

local function capabilities(s)
  local srv, opts = s.server, s.server.opts
  local list = { "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING" }
  if not s:auth_needs_tls() then
    list[#list + 1] = "USER"
    list[#list + 1] = "SASL " .. table.concat(base.MECHANISMS, " ")
  end
  local advertise = opts.advertise_starttls
  if advertise == nil and opts.advertise_stls ~= nil then  -- the old spelling
    require("parley.session").deprecated("mock pop3 option advertise_stls=", "advertise_starttls=")
    advertise = opts.advertise_stls
  end
  if srv.tls == "starttls" and not s:is_tls() and advertise ~= false then
    list[#list + 1] = "STLS"
  end
  list[#list + 1] = "IMPLEMENTATION parley-mock"
  if type(opts.capabilities) == "table" then
    list = opts.capabilities
  elseif type(opts.capabilities) == "function" then
    list = opts.capabilities(list, s) or list
  end
  return list
end

local function redact(line)
  local verb, rest = base.verb_arg(line)
  verb = verb:upper()
  if verb == "PASS" then return "PASS ****" end
  local w = base.words(rest, 2)
  if verb == "APOP" then return "APOP " .. shown(w[1] or "") .. " ****" end
  if verb == "AUTH" and w[2] then return "AUTH " .. shown(w[1]) .. " ****" end
  return shown(line)
end

-- The message number n of the session (nil when absent or deleted).
local function message(s, arg)
  local n = tonumber(arg:match("^(%d+)$") or "")
  if not n or n < 1 or n > #s.msgs then return nil, "-ERR no such message" end
  if s.deleted[n] then return nil, "-ERR message " .. n .. " already deleted" end
  return s.msgs[n], n
end

local function uid_of(s, m)
  return string.format("%d.%d", s.server.store:mailbox(s.user).uidvalidity, m.uid)
end

-- The message text dot-stuffed and ending in CRLF, then the terminating dot.
local function block(text)
  if text ~= "" and text:sub(-2) ~= "\r\n" then text = text .. "\r\n" end
  local stuffed = text:gsub("\r\n%.", "\r\n.."):gsub("^%.", "..")
  return { raw = stuffed .. ".\r\n" }
end

local function login(s, user)
  s.user = user
  s.msgs = {}
  for i, m in ipairs(s.server.store:messages(user)) do s.msgs[i] = m end
  s.deleted = {}
  local size = 0
  for _, m in ipairs(s.msgs) do size = size + m.size end
  s:log(string.format("logged in as %s: %d message(s)", user, #s.msgs))
  return string.format("+OK %s has %d message(s) (%d octets)", user, #s.msgs, size)
end

local auth_state = { CAPA = true, STLS = true, USER = true, PASS = true, APOP = true, AUTH = true,
                     QUIT = true, NOOP = false }

local commands = {}

function commands.CAPA(s, cmd)
  local lines = { "+OK Capability list follows" }
  for _, c in ipairs(capabilities(s)) do lines[#lines + 1] = c end
  lines[#lines + 1] = "."
  s:emit("CAPA", lines)
end

function commands.STLS(s, cmd)
  if s.server.tls ~= "starttls" then return s:emit("STLS", "-ERR STLS not available") end
  if s:is_tls() then return s:emit("STLS", "-ERR already under TLS") end
  if s:injected("STLS") then
    s:emit("STLS", "-ERR commands pipelined after STLS (refused)")
    error(HANGUP, 0)
  end
  s:emit("STLS", "+OK Begin TLS negotiation")
  s:handshake()
  s.pending_user = nil
end

local function plaintext_refused(s, verb)
  if s:auth_needs_tls() then
    s:emit(verb, "-ERR [AUTH] login needs STLS first")
    return true
  end
  return false
end

function commands.USER(s, cmd)
  if plaintext_refused(s, "USER") then return end
  if cmd.arg == "" then return s:emit("USER", "-ERR USER needs a name") end
  s.pending_user = cmd.arg
  s:emit("USER", "+OK send PASS")
end

function commands.PASS(s, cmd)
  if plaintext_refused(s, "PASS") then return end
  if not s.pending_user then return s:emit("PASS", "-ERR USER first") end
  local user = s.server:authenticate(s.pending_user, cmd.arg)
  if not user then
    s:log("login failed for " .. shown(s.pending_user))
    s.pending_user = nil
    return s:emit("PASS", "-ERR [AUTH] invalid user name or password")
  end
  s:emit("PASS", login(s, user))
end

function commands.APOP(s, cmd)
  if plaintext_refused(s, "APOP") then return end
  local name, digest = base.split_words(cmd.arg, 2, 2)
  if not name or not digest:find("^%x+$") then return s:emit("APOP", "-ERR APOP name digest") end
  local pass = s.server:password(name)
  if not pass or crypto.hex(crypto.digest("md5", s.timestamp .. pass)):lower() ~= digest:lower() then
    s:log("APOP failed for " .. shown(name))
    return s:emit("APOP", "-ERR [AUTH] invalid user name or digest")
  end
  s:emit("APOP", login(s, name))
end

function commands.AUTH(s, cmd)
  if cmd.arg == "" then
    local lines = { "+OK SASL mechanisms follow" }
    for _, m in ipairs(base.MECHANISMS) do lines[#lines + 1] = m end
    lines[#lines + 1] = "."
    return s:emit("AUTH", lines)
  end
  if plaintext_refused(s, "AUTH") then return end
  local mech, initial = base.split_words(cmd.arg, 1, 2)
  if not mech then return s:emit("AUTH", "-ERR AUTH mechanism [initial-response]") end
  local user, why = s:sasl(mech, initial, function(text)
    s:emit("AUTH", "+ " .. base.b64(text))
    local line = s:read_line()
    s:log("****")
    return line
  end)
  if user then return s:emit("AUTH", login(s, user)) end
  s:log("authentication failed (" .. why .. ")")
  if why == "unsupported" then return s:emit("AUTH", "-ERR unsupported SASL mechanism") end
  if why == "cancelled" then return s:emit("AUTH", "-ERR authentication cancelled") end
  if why == "malformed" then return s:emit("AUTH", "-ERR cannot decode the response") end
  if why == "authzid" then return s:emit("AUTH", "-ERR [AUTH] not authorized to act as that user") end
  s:emit("AUTH", "-ERR [AUTH] authentication failed")
end

function commands.STAT(s, cmd)
  local n, size = 0, 0
  for i, m in ipairs(s.msgs) do
    if not s.deleted[i] then n, size = n + 1, size + m.size end
  end
  s:emit("STAT", string.format("+OK %d %d", n, size))
end

local function listing(s, verb, arg, value)
  if arg ~= "" then
    local m, n = message(s, arg)
    if not m then return s:emit(verb, n) end
    return s:emit(verb, string.format("+OK %d %s", n, value(m)))
  end
  local lines = { "+OK listing follows" }
  for i, m in ipairs(s.msgs) do
    if not s.deleted[i] then lines[#lines + 1] = string.format("%d %s", i, value(m)) end
  end
  lines[#lines + 1] = "."
  s:emit(verb, lines)
end

function commands.LIST(s, cmd)
  listing(s, "LIST", cmd.arg, function(m) return tostring(m.size) end)
end

function commands.UIDL(s, cmd)
  listing(s, "UIDL", cmd.arg, function(m) return uid_of(s, m) end)
end

function commands.RETR(s, cmd)
  local m, n = message(s, cmd.arg)
  if not m then return s:emit("RETR", n) end
  m.flags["\\Seen"] = true
  s:emit("RETR", { string.format("+OK %d octets", m.size), block(m.text) })
end

function commands.TOP(s, cmd)
  local arg, lines = base.split_words(cmd.arg, 2, 2)
  if not arg or not lines:find("^%d+$") or #lines > 9 then
    return s:emit("TOP", "-ERR TOP message lines")
  end
  local m, n = message(s, arg)
  if not m then return s:emit("TOP", n) end
  local cut = m.text:find("\r\n\r\n", 1, true)
  local head, body = m.text, ""
  if cut then head, body = m.text:sub(1, cut + 1), m.text:sub(cut + 4) end
  local out, count = { head, "\r\n" }, 0
  for line in body:gmatch("[^\n]*\n") do
    if count >= tonumber(lines) then break end
    out[#out + 1] = line
    count = count + 1
  end
  s:emit("TOP", { "+OK top of message follows", block(table.concat(out)) })
end

function commands.DELE(s, cmd)
  local m, n = message(s, cmd.arg)
  if not m then return s:emit("DELE", n) end
  s.deleted[n] = true
  s:emit("DELE", "+OK message " .. n .. " deleted")
end

function commands.RSET(s, cmd)
  s.deleted = {}
  s:emit("RSET", "+OK")
end

function commands.NOOP(s, cmd)
  s:emit("NOOP", "+OK")
end

function commands.QUIT(s, cmd)
  if s.user then
    local doomed = {}
    for i in pairs(s.deleted) do doomed[#doomed + 1] = s.msgs[i] end
    local removed = s.server.store:remove(s.user, doomed)
    if removed > 0 then s:log(string.format("%d message(s) deleted", removed)) end
    s:emit("QUIT", string.format("+OK bye (%d message(s) deleted)", removed))
  else
    s:emit("QUIT", "+OK bye")
  end
  error(HANGUP, 0)
end

function handler.serve(s)
  s.timestamp = string.format("<%d.%d@%s>", math.random(1, 999999999), os.time(), s.server.hostname)
  if not s:hook("greeting", { verb = "greeting", arg = "", line = "" }) then
    s:emit("greeting", "+OK parley mock POP3 ready " .. s.timestamp)
  end
  while true do
    local line = s:read_line()
    s:log(redact(line))
    local verb, arg = base.verb_arg(line)
    verb = verb:upper()
    local cmd = { verb = verb, arg = arg, line = line }
    if not s:hook(verb, cmd) then
      local fn = commands[verb]
      if not fn then
        s:emit(verb ~= "" and verb or "*", "-ERR unknown command")
      elseif s.user and auth_state[verb] and verb ~= "CAPA" and verb ~= "QUIT" then
        s:emit(verb, "-ERR not allowed after login")
      elseif not s.user and auth_state[verb] == nil then
        s:emit(verb, "-ERR log in first")
      else
        fn(s, cmd)
      end
    end
  end
end

--- Starts a mock POP3 server. See the module description and `parley.mock.server` for the
-- options.
-- @return the server object (`port`, `store`, `stop()`, ...)
function M.start(opts)
  return base.start("pop3", opts, handler)
end

return M
