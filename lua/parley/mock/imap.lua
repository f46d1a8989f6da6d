--- A mock IMAP4rev1 server (RFC 3501) over the shared mailbox store.
--
--     local imap = require "parley.mock.imap"
--     local m = imap.start { users = { alice = "secret" }, store = store, tls = "starttls" }
--
-- It speaks CAPABILITY, NOOP, LOGOUT, ID, ENABLE, STARTTLS, LOGIN, AUTHENTICATE (PLAIN, LOGIN,
-- CRAM-MD5, with SASL-IR), SELECT / EXAMINE, LIST / LSUB, STATUS, NAMESPACE, APPEND (with
-- literals, LITERAL+), IDLE, CHECK, FETCH (FLAGS, UID, RFC822.SIZE, INTERNALDATE, ENVELOPE,
-- BODYSTRUCTURE, BODY[] / BODY.PEEK[] with HEADER, TEXT, HEADER.FIELDS and partial ranges,
-- RFC822*), STORE (FLAGS, +FLAGS, -FLAGS, .SILENT), SEARCH (RFC 2047 encoded header fields
-- matched by their decoded text), EXPUNGE, CLOSE, UNSELECT, CREATE, DELETE, RENAME, COPY, MOVE
-- (with COPYUID), and the UID forms of FETCH, STORE, SEARCH, EXPUNGE, COPY and MOVE. Each user
-- has INBOX and the folders Sent, Drafts and Trash (SPECIAL-USE), more with CREATE ("/"
-- separates levels); changes made by other sessions (new mail, a POP3 deletion) are reported
-- as EXISTS / EXPUNGE.
--
-- Options besides those of every mock (see `parley.mock.server`): `capabilities` (a list
-- replacing the capability words, or a function `fn(list, session)` returning it),
-- `advertise_starttls` (false: do not list STARTTLS although it works), `require_tls`
-- (LOGINDISABLED before STARTTLS), `max_literal` (bytes of literals in one command after
-- login, default 50 MB), `max_login_literal` (before login, default 8 KB). Hook keys:
-- `greeting` and every command (`FETCH`, `UID FETCH`, ...); a hook's last line gets the
-- command's tag unless it starts with `*`, `+` or the tag.
-- @module parley.mock.imap

local base = require "parley.mock.server"

local M = {}

local HANGUP = base.HANGUP
local shown = base.shown

local handler = { line_prefix = "* OK ", continuation_prefix = "* OK " }

function handler.too_long(s) return "* BYE line too long" end
function handler.idle_reply(s) return "* BYE autologout: idle for too long" end
function handler.error_reply(s, cmd)
  return ((cmd and cmd.tag) or "*") .. " NO [SERVERBUG] internal error in the mock server"
end
function handler.closes(s, last) return last:match("^%* BYE") ~= nil end
function handler.busy_reply(srv) return "* BYE [UNAVAILABLE] too many connections, try again later" end

function handler.hook_lines(s, cmd, lines)
  local tag = cmd and cmd.tag
  local last = lines[#lines]
  if tag and last and not (last:match("^%*") or last:match("^%+") or
      last:sub(1, #tag + 1) == tag .. " ") then
    local out = { table.unpack(lines) }
    out[#out] = tag .. " " .. last
    return out
  end
  return lines
end

local FLAGS = "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)"

local function capabilities(s)
  local srv, opts = s.server, s.server.opts
  local list = { "IMAP4rev1", "LITERAL+", "SASL-IR", "ID", "IDLE", "NAMESPACE", "UIDPLUS",
                 "UNSELECT", "ENABLE", "CHILDREN", "SPECIAL-USE", "MOVE" }
  if srv.tls == "starttls" and not s:is_tls() and opts.advertise_starttls ~= false then
    list[#list + 1] = "STARTTLS"
  end
  if s:auth_needs_tls() then
    list[#list + 1] = "LOGINDISABLED"
  else
    for _, m in ipairs(base.MECHANISMS) do list[#list + 1] = "AUTH=" .. m end
  end
  if type(opts.capabilities) == "table" then
    list = opts.capabilities
  elseif type(opts.capabilities) == "function" then
    list = opts.capabilities(list, s) or list
  end
  return list
end

---------------------------------------------------------------------------------------------
-- Reading commands, showing messages, the mailbox view and SEARCH: parley.mock.imap.command,
-- parley.mock.imap.message, parley.mock.imap.view and parley.mock.imap.search

local command = require "parley.mock.imap.command"
local message = require "parley.mock.imap.message"
local view = require "parley.mock.imap.view"
local search_mod = require "parley.mock.imap.search"
local read_command, tokenize, nest = command.read_command, command.tokenize, command.nest
local tail, str, atom = command.tail, command.str, command.atom
local quote = message.quote
local flag_list, fetch_items, fetch_one = message.flag_list, message.fetch_items, message.fetch_one
local sync, resolve = view.sync, view.resolve
local search_key = search_mod.search_key

---------------------------------------------------------------------------------------------
-- Commands

local commands = {}
local ANY, NOAUTH, AUTH, SELECTED = 1, 2, 3, 4
local state_of = {
  CAPABILITY = ANY, NOOP = ANY, LOGOUT = ANY, ID = ANY,
  STARTTLS = NOAUTH, LOGIN = NOAUTH, AUTHENTICATE = NOAUTH,
  SELECT = AUTH, EXAMINE = AUTH, LIST = AUTH, LSUB = AUTH, STATUS = AUTH, APPEND = AUTH,
  NAMESPACE = AUTH, IDLE = AUTH, ENABLE = AUTH, CREATE = AUTH, DELETE = AUTH, RENAME = AUTH,
  SUBSCRIBE = AUTH, UNSUBSCRIBE = AUTH,
  CHECK = SELECTED, CLOSE = SELECTED, UNSELECT = SELECTED, EXPUNGE = SELECTED,
  FETCH = SELECTED, STORE = SELECTED, SEARCH = SELECTED, COPY = SELECTED, MOVE = SELECTED,
  UID = SELECTED,
}

local function tagged(s, cmd, out, text)
  out[#out + 1] = cmd.tag .. " " .. text
  s:emit(cmd.key, out)
end

function commands.CAPABILITY(s, cmd)
  tagged(s, cmd, { "* CAPABILITY " .. table.concat(capabilities(s), " ") }, "OK CAPABILITY completed")
end

function commands.NOOP(s, cmd)
  local out = {}
  sync(s, out)
  tagged(s, cmd, out, "OK NOOP completed")
end

commands.CHECK = commands.NOOP

function commands.LOGOUT(s, cmd)
  tagged(s, cmd, { "* BYE parley mock IMAP logging out" }, "OK LOGOUT completed")
  error(HANGUP, 0)
end

function commands.ID(s, cmd)
  tagged(s, cmd, { '* ID ("name" "parley-mock")' }, "OK ID completed")
end

function commands.ENABLE(s, cmd)
  tagged(s, cmd, { "* ENABLED" }, "OK ENABLE completed")
end

function commands.NAMESPACE(s, cmd)
  tagged(s, cmd, { '* NAMESPACE (("" "/")) NIL NIL' }, "OK NAMESPACE completed")
end

function commands.STARTTLS(s, cmd)
  if s.server.tls ~= "starttls" then return tagged(s, cmd, {}, "BAD STARTTLS not available") end
  if s:is_tls() then return tagged(s, cmd, {}, "BAD TLS already active") end
  if s:injected("STARTTLS") then
    tagged(s, cmd, {}, "BAD commands pipelined after STARTTLS (refused)")
    error(HANGUP, 0)
  end
  tagged(s, cmd, {}, "OK Begin TLS negotiation now")
  s:handshake()
end

local function logged_in(s, cmd, user)
  s.user = user
  s.box = s.server.store:mailbox(user)
  s:log("logged in as " .. user)
  tagged(s, cmd, {}, "OK [CAPABILITY " .. table.concat(capabilities(s), " ") .. "] logged in")
end

local function plaintext_refused(s, cmd)
  if s:auth_needs_tls() then
    tagged(s, cmd, {}, "NO [PRIVACYREQUIRED] STARTTLS first")
    return true
  end
  return false
end

function commands.LOGIN(s, cmd)
  if plaintext_refused(s, cmd) then return end
  local user, pass = str(cmd.args[1]), str(cmd.args[2])
  if not user or not pass or #cmd.args ~= 2 then
    return tagged(s, cmd, {}, "BAD LOGIN user password")
  end
  if not s.server:authenticate(user, pass) then
    s:log("login failed for " .. shown(user))
    return tagged(s, cmd, {}, "NO [AUTHENTICATIONFAILED] Authentication failed")
  end
  logged_in(s, cmd, user)
end

function commands.AUTHENTICATE(s, cmd)
  if plaintext_refused(s, cmd) then return end
  local mech, initial = atom(cmd.args[1]), atom(cmd.args[2])
  if not mech then return tagged(s, cmd, {}, "BAD AUTHENTICATE mechanism") end
  local user, why = s:sasl(mech, initial, function(text)
    s:emit(cmd.key, "+ " .. base.b64(text))
    local line = s:read_line()
    s:log("****")
    return line
  end)
  if user then return logged_in(s, cmd, user) end
  s:log("authentication failed (" .. why .. ")")
  if why == "unsupported" then return tagged(s, cmd, {}, "NO unsupported mechanism") end
  if why == "cancelled" then return tagged(s, cmd, {}, "BAD authentication cancelled") end
  if why == "malformed" then return tagged(s, cmd, {}, "BAD cannot decode the response") end
  if why == "authzid" then
    return tagged(s, cmd, {}, "NO [AUTHORIZATIONFAILED] not authorized to act as that user")
  end
  tagged(s, cmd, {}, "NO [AUTHENTICATIONFAILED] Authentication failed")
end

-- The user's folder of that name, or nil.
local function folder(s, name)
  if not name then return nil end
  return s.server.store:folder(s.user, name)
end

-- A mailbox name as LIST and STATUS show it.
local function mailbox_name(name)
  if name == "INBOX" then return name end
  return quote(name)
end

local function select(s, cmd, readonly)
  local name = str(cmd.args[1])
  s.view, s.readonly = nil, nil
  local box = folder(s, name)
  if not box then
    return tagged(s, cmd, {}, "NO [NONEXISTENT] Unknown mailbox " .. shown(name or ""))
  end
  s.box = box
  s.view, s.exists, s.readonly = {}, -1, readonly
  s.removals = s.box.removals or 0
  for i, m in ipairs(s.box.messages) do s.view[i] = m end
  s.exists = #s.view
  local unseen
  for i, m in ipairs(s.view) do
    if not m.flags["\\Seen"] then unseen = unseen or i end
  end
  local out = {
    "* FLAGS " .. FLAGS,
    "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted",
    "* " .. #s.view .. " EXISTS",
    "* 0 RECENT",
  }
  if unseen then out[#out + 1] = "* OK [UNSEEN " .. unseen .. "] First unseen" end
  out[#out + 1] = "* OK [UIDVALIDITY " .. s.box.uidvalidity .. "] UIDs valid"
  out[#out + 1] = "* OK [UIDNEXT " .. s.box.uidnext .. "] Predicted next UID"
  tagged(s, cmd, out, (readonly and "OK [READ-ONLY] " or "OK [READ-WRITE] ") ..
    (readonly and "EXAMINE" or "SELECT") .. " completed")
end

function commands.SELECT(s, cmd) select(s, cmd, false) end
function commands.EXAMINE(s, cmd) select(s, cmd, true) end

local MAX_PATTERN = 255 -- items of a LIST pattern, once runs of wildcards are collapsed

-- A LIST pattern as a list of items: a byte, or a wildcard ({ any = true } for "*", which
-- crosses "/", { any = false } for "%"). Runs of wildcards collapse into one. Nil when too long.
local function compile_pattern(pattern)
  local items = {}
  -- runs of wildcards first, in one pass: "*%*" is "*", "%%" is "%"
  local up = pattern:upper():gsub("[%*%%]+", function(run)
    return run:find("*", 1, true) and "*" or "%"
  end)
  for i = 1, #up do
    local b = up:byte(i)
    if b == 42 or b == 37 then
      local last = items[#items]
      if type(last) == "table" then
        last.any = last.any or b == 42
      else
        items[#items + 1] = { any = b == 42 }
      end
    else
      items[#items + 1] = b
    end
    if #items > MAX_PATTERN then return nil end
  end
  return items
end

-- Whether `name` matches the compiled pattern (case-insensitive). The live positions in the
-- pattern advance together one byte of the name at a time (no backtracking): at most
-- #items x #name steps, whatever the wildcards.
local function pattern_matches(items, name)
  local mark, gen = {}, 1
  local function add(set, j)
    while mark[j] ~= gen do
      mark[j] = gen
      set[#set + 1] = j
      if type(items[j]) ~= "table" then return end
      j = j + 1 -- a wildcard may match nothing
    end
  end
  local cur = {}
  add(cur, 1)
  local up = name:upper()
  for k = 1, #up do
    local c = up:byte(k)
    gen = gen + 1
    local nxt = {}
    for _, j in ipairs(cur) do
      local it = items[j]
      if type(it) == "table" then
        if it.any or c ~= 47 then add(nxt, j) end
      elseif it == c then
        add(nxt, j + 1)
      end
    end
    if #nxt == 0 then return false end
    cur = nxt
  end
  for _, j in ipairs(cur) do
    if j == #items + 1 then return true end
  end
  return false
end

-- LIST [(selection options)] reference pattern [RETURN (...)]: the folders whose names
-- match, with \HasChildren / \HasNoChildren and their SPECIAL-USE attribute. The
-- selection option SPECIAL-USE (RFC 6154) lists only those.
function commands.LIST(s, cmd)
  local args, i, only_special = cmd.args, 1, false
  if type(args[1]) == "table" and args[1].list then
    for _, o in ipairs(args[1]) do
      if (atom(o) or ""):upper() == "SPECIAL-USE" then only_special = true end
    end
    i = 2
  end
  local ref, pattern = str(args[i]), str(args[i + 1])
  if not ref or not pattern then return tagged(s, cmd, {}, "BAD " .. cmd.verb .. " reference pattern") end
  local out = {}
  local items = compile_pattern(ref .. pattern)
  if not items then return tagged(s, cmd, {}, "BAD " .. cmd.verb .. " pattern too long") end
  if pattern == "" then
    out[1] = '* ' .. cmd.verb .. ' (\\Noselect) "/" ""'
    return tagged(s, cmd, out, "OK " .. cmd.verb .. " completed")
  end
  local set = s.server.store:folders(s.user)
  local names = {}
  for name in pairs(set) do names[#names + 1] = name end
  table.sort(names, function(a, b)
    if a == "INBOX" or b == "INBOX" then return a == "INBOX" and b ~= "INBOX" end
    return a < b
  end)
  local parents = {}
  for _, name in ipairs(names) do
    local slash = name:find("/[^/]*$")
    if slash then parents[name:sub(1, slash - 1)] = true end
  end
  for _, name in ipairs(names) do
    local box = set[name]
    if (not only_special or box.special) and pattern_matches(items, name) then
      local attrs = { parents[name] and "\\HasChildren" or "\\HasNoChildren" }
      if box.special then attrs[2] = box.special end
      out[#out + 1] = "* " .. cmd.verb .. " (" .. table.concat(attrs, " ") .. ') "/" ' .. mailbox_name(name)
    end
  end
  tagged(s, cmd, out, "OK " .. cmd.verb .. " completed")
end

commands.LSUB = commands.LIST

function commands.STATUS(s, cmd)
  local name, items = str(cmd.args[1]), cmd.args[2]
  local box = folder(s, name)
  if not box then return tagged(s, cmd, {}, "NO [NONEXISTENT] Unknown mailbox") end
  if type(items) ~= "table" or not items.list then return tagged(s, cmd, {}, "BAD STATUS mailbox (items)") end
  local parts = {}
  for _, it in ipairs(items) do
    local up = (atom(it) or ""):upper()
    if up == "MESSAGES" then
      parts[#parts + 1] = "MESSAGES " .. #box.messages
    elseif up == "RECENT" then
      parts[#parts + 1] = "RECENT 0"
    elseif up == "UIDNEXT" then
      parts[#parts + 1] = "UIDNEXT " .. box.uidnext
    elseif up == "UIDVALIDITY" then
      parts[#parts + 1] = "UIDVALIDITY " .. box.uidvalidity
    elseif up == "UNSEEN" then
      local n = 0
      for _, m in ipairs(box.messages) do if not m.flags["\\Seen"] then n = n + 1 end end
      parts[#parts + 1] = "UNSEEN " .. n
    else
      return tagged(s, cmd, {}, "BAD unknown STATUS item " .. shown(up))
    end
  end
  tagged(s, cmd, { "* STATUS " .. mailbox_name(box.name) .. " (" .. table.concat(parts, " ") .. ")" },
    "OK STATUS completed")
end

function commands.APPEND(s, cmd)
  local args = cmd.args
  local name = str(args[1])
  local flags, i = {}, 2
  if type(args[i]) == "table" and args[i].list then
    for _, f in ipairs(args[i]) do flags[#flags + 1] = str(f) end
    i = i + 1
  end
  if args[i + 1] ~= nil then i = i + 1 end -- a date-time: the mock stamps its own
  local msg = args[i]
  if type(msg) ~= "table" or not msg.str or args[i + 1] ~= nil then
    return tagged(s, cmd, {}, "BAD APPEND mailbox [(flags)] [date] literal")
  end
  local box = folder(s, name)
  if not box then return tagged(s, cmd, {}, "NO [TRYCREATE] Unknown mailbox") end
  local m = s.server.store:add(box, msg.str, { flags = flags })
  s:log(string.format("appended %d bytes to %s as UID %d", m.size, shown(box.name), m.uid))
  local out = {}
  sync(s, out)
  tagged(s, cmd, out, "OK [APPENDUID " .. box.uidvalidity .. " " .. m.uid .. "] APPEND completed")
end

-- IDLE waits on the client and on the mailbox at once: a change in the store wakes the read
-- (conn:wake), so an idle session costs nothing while nothing happens.
function commands.IDLE(s, cmd)
  local parley = require "parley"
  s:emit(cmd.key, "+ idling")
  local conn, store = s.conn, s.server.store
  local deadline = parley.clock() + s.server.idle
  local box = s.box
  local watch = store:watch(s.user, function() conn:wake() end, box)
  local ok, err = pcall(function()
    while true do
      local out = {}
      sync(s, out)
      if #out > 0 then s:emit(cmd.key, out) end
      local left = deadline - parley.clock()
      if left <= 0 then
        s:emit("idle", "* BYE autologout: idle for too long")
        error(HANGUP, 0)
      end
      local line, why = conn:read_line(left)
      if line then
        if line:upper() == "DONE" then return tagged(s, cmd, {}, "OK IDLE terminated") end
        return tagged(s, cmd, {}, "BAD expected DONE")
      end
      if why ~= "timeout" and why ~= "woken" then error(HANGUP, 0) end
    end
  end)
  store:unwatch(s.user, watch, box)
  if not ok then error(err, 0) end
end

local WHY = {
  exists = "NO [ALREADYEXISTS] Mailbox exists",
  invalid = "NO [CANNOT] Invalid mailbox name",
  limit = "NO [LIMIT] Too many mailboxes",
  missing = "NO [NONEXISTENT] Unknown mailbox",
  inbox = "NO [CANNOT] INBOX cannot be deleted",
}

function commands.CREATE(s, cmd)
  local name = str(cmd.args[1])
  if not name or cmd.args[2] ~= nil then return tagged(s, cmd, {}, "BAD CREATE mailbox") end
  local box, why = s.server.store:create(s.user, name)
  if not box then return tagged(s, cmd, {}, WHY[why]) end
  s:log("created " .. shown(box.name))
  tagged(s, cmd, {}, "OK CREATE completed")
end

function commands.DELETE(s, cmd)
  local name = str(cmd.args[1])
  if not name or cmd.args[2] ~= nil then return tagged(s, cmd, {}, "BAD DELETE mailbox") end
  local ok, why = s.server.store:delete(s.user, name)
  if not ok then return tagged(s, cmd, {}, WHY[why]) end
  s:log("deleted " .. shown(name))
  tagged(s, cmd, {}, "OK DELETE completed")
end

function commands.RENAME(s, cmd)
  local from, to = str(cmd.args[1]), str(cmd.args[2])
  if not from or not to or cmd.args[3] ~= nil then return tagged(s, cmd, {}, "BAD RENAME from to") end
  local ok, why = s.server.store:rename(s.user, from, to)
  if not ok then return tagged(s, cmd, {}, WHY[why]) end
  s:log("renamed " .. shown(from) .. " to " .. shown(to))
  local out = {}
  sync(s, out)
  tagged(s, cmd, out, "OK RENAME completed")
end
for _, verb in ipairs { "SUBSCRIBE", "UNSUBSCRIBE" } do
  commands[verb] = function(s, cmd) tagged(s, cmd, {}, "OK " .. verb .. " completed") end
end
-- COPY / MOVE (and their UID forms): copies keep the text, flags and date; COPYUID says
-- which UIDs they got (UIDPLUS); MOVE then expunges the originals.
local function copy(s, cmd, args, uid, move)
  if move and s.readonly then return tagged(s, cmd, {}, "NO [READ-ONLY] mailbox opened with EXAMINE") end
  local hits, err = resolve(s, atom(args[1]) or "", uid)
  if not hits then return tagged(s, cmd, {}, "BAD " .. err) end
  local name = str(args[2])
  local verb = (uid and "UID " or "") .. (move and "MOVE" or "COPY")
  if not name or args[3] ~= nil then return tagged(s, cmd, {}, "BAD " .. verb .. " sequence-set mailbox") end
  local store = s.server.store
  local dest = folder(s, name)
  if not dest then return tagged(s, cmd, {}, "NO [TRYCREATE] Unknown mailbox") end
  local from, to, originals = {}, {}, {}
  for _, h in ipairs(hits) do
    local flags = {}
    for f in pairs(h.m.flags) do flags[#flags + 1] = f end
    local m = store:add(dest, h.m.text, { flags = flags, from = h.m.from, to = h.m.to,
                                         internaldate = h.m.internaldate })
    from[#from + 1], to[#to + 1], originals[#originals + 1] = h.m.uid, m.uid, h.m
  end
  s:log(string.format("%s %d message(s) to %s", move and "moved" or "copied", #hits, shown(dest.name)))
  local code = #hits > 0 and ("[COPYUID " .. dest.uidvalidity .. " " .. table.concat(from, ",") ..
    " " .. table.concat(to, ",") .. "] ") or ""
  local out = {}
  if move then
    if code ~= "" then out[1] = "* OK " .. code .. "Moved" end
    store:remove(s.user, originals, s.box)
    sync(s, out)
    return tagged(s, cmd, out, "OK " .. verb .. " completed")
  end
  sync(s, out)
  tagged(s, cmd, out, "OK " .. code .. verb .. " completed")
end

function commands.COPY(s, cmd) copy(s, cmd, cmd.args, false, false) end
function commands.MOVE(s, cmd) copy(s, cmd, cmd.args, false, true) end

local function fetch(s, cmd, args, uid)
  local hits, err = resolve(s, atom(args[1]) or "", uid)
  if not hits then return tagged(s, cmd, {}, "BAD " .. err) end
  local items = args[2] ~= nil and args[3] == nil and fetch_items(args[2])
  if not items then return tagged(s, cmd, {}, "BAD FETCH sequence-set items") end
  local out = {}
  for _, h in ipairs(hits) do
    local bytes, bad = fetch_one(s, h.n, h.m, items, uid)
    if not bytes then return tagged(s, cmd, {}, "BAD unknown FETCH item " .. shown(bad)) end
    out[#out + 1] = { raw = bytes }
  end
  if uid then sync(s, out) end
  tagged(s, cmd, out, "OK " .. (uid and "UID " or "") .. "FETCH completed")
end

local function store(s, cmd, args, uid)
  if s.readonly then return tagged(s, cmd, {}, "NO [READ-ONLY] mailbox opened with EXAMINE") end
  local hits, err = resolve(s, atom(args[1]) or "", uid)
  if not hits then return tagged(s, cmd, {}, "BAD " .. err) end
  local item = (atom(args[2]) or ""):upper()
  local mode, silent = item:match("^([%+%-]?)FLAGS(%.?S?I?L?E?N?T?)$")
  if not mode or (silent ~= "" and silent ~= ".SILENT") then
    return tagged(s, cmd, {}, "BAD STORE sequence-set [+-]FLAGS[.SILENT] (flags)")
  end
  local flags = {}
  if type(args[3]) == "table" and args[3].list then
    for _, f in ipairs(args[3]) do flags[#flags + 1] = str(f) end
  else
    for i = 3, #args do flags[#flags + 1] = str(args[i]) end
  end
  local out = {}
  for _, h in ipairs(hits) do
    local m = h.m
    if mode == "" then m.flags = {} end
    for _, f in ipairs(flags) do
      if f and f:upper() ~= "\\RECENT" then m.flags[f] = (mode ~= "-") or nil end
    end
    if silent == "" then
      out[#out + 1] = "* " .. h.n .. " FETCH (" .. (uid and ("UID " .. m.uid .. " ") or "") ..
        "FLAGS " .. flag_list(m) .. ")"
    end
  end
  tagged(s, cmd, out, "OK " .. (uid and "UID " or "") .. "STORE completed")
end

local function search(s, cmd, args, uid)
  local i = 1
  if atom(args[1]) and atom(args[1]):upper() == "CHARSET" then i = 3 end
  local preds = {}
  while i <= #args do
    local p, ni, err = search_key(s, args, i)
    if not p then return tagged(s, cmd, {}, "BAD " .. err) end
    preds[#preds + 1] = p
    i = ni
  end
  if #preds == 0 then return tagged(s, cmd, {}, "BAD SEARCH needs a key") end
  local found = {}
  for n, m in ipairs(s.view) do
    local ok = true
    for _, p in ipairs(preds) do
      if not p(n, m) then ok = false break end
    end
    if ok then found[#found + 1] = uid and m.uid or n end
  end
  local line = "* SEARCH" .. (#found > 0 and " " .. table.concat(found, " ") or "")
  tagged(s, cmd, { line }, "OK " .. (uid and "UID " or "") .. "SEARCH completed")
end

local function expunge(s, cmd, only, silent)
  if s.readonly then return tagged(s, cmd, {}, "NO [READ-ONLY] mailbox opened with EXAMINE") end
  local out = {}
  sync(s, out)
  local doomed = {}
  for _, m in ipairs(s.view) do
    if m.flags["\\Deleted"] and (not only or only[m]) then doomed[#doomed + 1] = m end
  end
  local removed = s.server.store:remove(s.user, doomed, s.box)
  if removed > 0 then s:log(removed .. " message(s) expunged") end
  if silent then
    local ignored = {}
    sync(s, ignored)
    return
  end
  sync(s, out)
  tagged(s, cmd, out, "OK " .. (only and "UID " or "") .. "EXPUNGE completed")
end

function commands.EXPUNGE(s, cmd) expunge(s, cmd) end

function commands.CLOSE(s, cmd)
  if not s.readonly then expunge(s, cmd, nil, true) end
  s.view, s.readonly = nil, nil
  tagged(s, cmd, {}, "OK CLOSE completed")
end

function commands.UNSELECT(s, cmd)
  s.view, s.readonly = nil, nil
  tagged(s, cmd, {}, "OK UNSELECT completed")
end

function commands.FETCH(s, cmd) fetch(s, cmd, cmd.args, false) end
function commands.STORE(s, cmd) store(s, cmd, cmd.args, false) end
function commands.SEARCH(s, cmd) search(s, cmd, cmd.args, false) end

function commands.UID(s, cmd)
  local sub = (atom(cmd.args[1]) or ""):upper()
  local rest = tail(cmd.args, 2)
  if sub == "FETCH" then return fetch(s, cmd, rest, true) end
  if sub == "STORE" then return store(s, cmd, rest, true) end
  if sub == "SEARCH" then return search(s, cmd, rest, true) end
  if sub == "EXPUNGE" then
    local hits, err = resolve(s, atom(rest[1]) or "", true)
    if not hits then return tagged(s, cmd, {}, "BAD " .. err) end
    local only = {}
    for _, h in ipairs(hits) do only[h.m] = true end
    return expunge(s, cmd, only)
  end
  if sub == "COPY" or sub == "MOVE" then return copy(s, cmd, rest, true, sub == "MOVE") end
  tagged(s, cmd, {}, "BAD unknown UID command " .. shown(sub))
end

local function redact(segs, verb)
  local line = segs[1]
  local w = base.words(line, 4)
  if verb == "LOGIN" then
    line = table.concat(w, " ", 1, math.min(#w, 3)) .. " ****"
  elseif verb == "AUTHENTICATE" and w[4] then
    line = table.concat(w, " ", 1, 3) .. " ****"
  end
  line = shown(line)
  if #segs > 1 then
    local sizes = {}
    for i = 2, #segs, 2 do sizes[#sizes + 1] = #segs[i] end
    line = line .. " [literal(s) of " .. table.concat(sizes, ", ") .. " bytes]"
  end
  return line
end

function handler.serve(s)
  local greeting = "* OK [CAPABILITY " .. table.concat(capabilities(s), " ") .. "] parley mock IMAP ready"
  if not s:hook("greeting", { verb = "greeting", arg = "", line = "" }) then
    s:emit("greeting", greeting)
  end
  while true do
    local segs = read_command(s)
    if segs then
      local toks, err = tokenize(segs)
      local tree
      if toks then tree, err = nest(toks) end
      local tag = tree and atom(tree[1])
      local verb = tree and atom(tree[2])
      if not tree then
        -- a command that does not parse still gets its tagged BAD, if it has a tag
        local w = base.words(segs[1], 1)[1]
        if w and not w:find('[%(%)"{]') then tag = w end
      end
      s:log(redact(segs, verb and verb:upper() or ""))
      if not tag or tag == "*" or tag == "+" then
        s:emit("error", "* BAD " .. (err or "no tag"))
      elseif not verb then
        s:emit("error", tag .. " BAD " .. (err or "no command"))
      else
        verb = verb:upper()
        local key = verb
        if verb == "UID" and atom(tree[3]) then key = "UID " .. atom(tree[3]):upper() end
        local cmd = { tag = tag, verb = verb, key = key, args = tail(tree, 3),
                      line = segs[1], segs = segs }
        local _, after_tag = base.verb_arg(segs[1])
        local _, arg = base.verb_arg(after_tag)
        cmd.arg = arg
        if not s:hook(key, cmd) then
          local fn, need = commands[verb], state_of[verb]
          if not fn then
            tagged(s, cmd, {}, "BAD unknown command " .. shown(verb))
          elseif need == NOAUTH and s.user then
            tagged(s, cmd, {}, "BAD already logged in")
          elseif (need == AUTH or need == SELECTED) and not s.user then
            tagged(s, cmd, {}, "BAD log in first")
          elseif need == SELECTED and not s.view then
            tagged(s, cmd, {}, "BAD select a mailbox first")
          else
            fn(s, cmd)
          end
        end
      end
    end
  end
end

--- Starts a mock IMAP server. See the module description and `parley.mock.server` for the
-- options.
-- @return the server object (`port`, `store`, `stop()`, ...)
function M.start(opts)
  return base.start("imap", opts, handler)
end

return M
