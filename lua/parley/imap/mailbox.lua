--- The mailbox commands of the IMAP session: SELECT / EXAMINE, LIST, STATUS, CREATE, DELETE,
-- RENAME, (UN)SUBSCRIBE, APPEND; in the selected state FETCH, SEARCH, STORE, COPY, MOVE,
-- EXPUNGE, CHECK, CLOSE, UNSELECT, ENABLE (and their UID forms); and IDLE. parley.imap installs
-- these methods on its sessions; scripts call them there (`s:select`, `s:fetch`, `s:idle`, ...).
-- @module parley.imap.mailbox

local parley = require "parley"
local parse = require "parley.imap.parse"
local utf7 = require "parley.imap.utf7"
local encode = require "parley.imap.encode"
local check = require "parley.imap.check"

local M = {}

--- The methods this module adds to IMAP sessions.
local Session = {}
M.methods = Session

local strings = parse.strings
local no_ctl = encode.no_ctl
local absorb, check_tagged = check.absorb, check.check_tagged
local collect, next_tag, run = check.collect, check.next_tag, check.run
-- The names parley.imap gives them.
local I = { atom = encode.atom, literal = encode.literal, quoted = encode.quoted,
            parse_response = parse.parse_response, utf7_encode = utf7.encode }

local function misuse(msg)
  parley.raise(2, "script", msg)
end

local function protocol_error(msg)
  parley.raise(1, "protocol", msg)
end

local function caps(s)
  if not s.caps then s:capability() end
  return s.caps or {}
end

---------------------------------------------------------------------------------------------
-- Mailboxes

-- A mailbox name as it goes on the wire (modified UTF-7 unless the server takes UTF-8).
local function mailbox(s, name)
  if type(name) ~= "string" then misuse("imap: a mailbox name must be a string") end
  if name:find("[\128-\255]") and not (s.caps and s.caps["UTF8=ACCEPT"] and s.utf8_enabled) then
    return I.utf7_encode(name)
  end
  return name
end

local function open_mailbox(s, verb, name, opts)
  opts = opts or {}
  local prev = s.mailbox
  s.mailbox = { name = name }
  local cmd = { verb, mailbox(s, name) }
  if opts.condstore then cmd[3] = { I.atom("CONDSTORE") } end
  local ok, r, u = pcall(run, s, cmd, opts)
  if not ok then
    s.mailbox = prev
    error(r, 0)
  end
  if r.status ~= "OK" then
    s.mailbox = nil
    return r, r
  end
  local box = s.mailbox
  box.read_only = r.code == "READ-ONLY"
  for _, x in ipairs(u) do
    if x.code == "PERMANENTFLAGS" and x.code_args then box.permanentflags = strings(x.code_args[1]) end
  end
  return box, r
end

--- SELECT: opens a mailbox read-write.
-- @param name the mailbox (UTF-8; sent in modified UTF-7 when needed)
-- @param opts optional `{expect=, timeout=, condstore=}`
-- @return a table `name`, `exists`, `recent`, `flags`, `permanentflags`, `uidvalidity`,
--   `uidnext`, `unseen`, `highestmodseq`, `read_only`; and the tagged result
function Session:select(name, opts)
  return open_mailbox(self, "SELECT", name, opts)
end

--- EXAMINE: opens a mailbox read-only (same results as `select`).
function Session:examine(name, opts)
  return open_mailbox(self, "EXAMINE", name, opts)
end

--- LIST: mailboxes matching a pattern.
-- @param ref reference name (default "")
-- @param pattern mailbox pattern with * and % (default "*")
-- @return an array of `{name=, raw_name=, delimiter=, flags=}` and the tagged result
function Session:list(ref, pattern, opts)
  local r, u = run(self, { "LIST", I.quoted(ref or ""), I.quoted(pattern or "*") }, opts)
  local out = {}
  for _, x in ipairs(u) do
    if x.type == "LIST" then out[#out + 1] = { name = x.name, raw_name = x.raw_name, delimiter = x.delimiter, flags = x.flags } end
  end
  return out, r
end

--- STATUS: counters of a mailbox without selecting it.
-- @param items array of names, or a string such as "(MESSAGES UNSEEN)" (default MESSAGES,
--   RECENT, UIDNEXT, UIDVALIDITY, UNSEEN)
-- @return a table item -> number and the tagged result
function Session:status(name, items, opts)
  if type(items) == "string" then
    local words = {}
    for w in items:gmatch("[%w%-%.]+") do words[#words + 1] = w end
    items = words
  end
  if items ~= nil and #items == 0 then misuse("STATUS: no item asked for") end
  items = items or { "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN" }
  local list = {}
  for i, it in ipairs(items) do list[i] = I.atom(it) end
  local r, u = run(self, { "STATUS", mailbox(self, name), list }, opts)
  for _, x in ipairs(u) do
    if x.type == "STATUS" then return x.items, r end
  end
  return {}, r
end

--- CREATE a mailbox.
function Session:create(name, opts)
  return run(self, { "CREATE", mailbox(self, name) }, opts)
end

--- DELETE a mailbox.
function Session:delete(name, opts)
  return run(self, { "DELETE", mailbox(self, name) }, opts)
end

--- RENAME a mailbox.
function Session:rename(from, to, opts)
  return run(self, { "RENAME", mailbox(self, from), mailbox(self, to) }, opts)
end

--- SUBSCRIBE to a mailbox.
function Session:subscribe(name, opts)
  return run(self, { "SUBSCRIBE", mailbox(self, name) }, opts)
end

--- UNSUBSCRIBE from a mailbox.
function Session:unsubscribe(name, opts)
  return run(self, { "UNSUBSCRIBE", mailbox(self, name) }, opts)
end

--- APPEND a message to a mailbox, as a literal (non-synchronising with LITERAL+).
-- @param name the mailbox
-- @param message the message text (LF line ends become CRLF; a bare CR is refused), or a
--   table for parley.mime.build
-- @param opts optional: `flags` (array, e.g. {"\\Seen"}), `date` (INTERNALDATE string),
--   `expect`, `timeout`
-- @return the tagged result (with `appenduid = {uidvalidity=, uid=}` under UIDPLUS)
function Session:append(name, message, opts)
  opts = opts or {}
  if type(message) == "table" then message = require("parley.mime").build(message) end
  if type(message) ~= "string" then
    misuse("append: the message must be a string or a table for parley.mime.build")
  end
  if message:find("\r[^\n]") or message:sub(-1) == "\r" then misuse("append: the message holds a bare CR") end
  message = message:gsub("\r?\n", "\r\n")
  local cmd = { "APPEND", mailbox(self, name) }
  if opts.flags then
    local flags = {}
    for i, f in ipairs(opts.flags) do flags[i] = I.atom(f) end
    cmd[#cmd + 1] = flags
  end
  if opts.date then cmd[#cmd + 1] = I.quoted(opts.date) end
  cmd[#cmd + 1] = I.literal(message)
  return run(self, cmd, opts)
end

---------------------------------------------------------------------------------------------
-- Selected state

local function sequence_set(set, what)
  if math.type(set) == "integer" then return tostring(set) end
  if type(set) == "table" then
    local parts = {}
    for i, n in ipairs(set) do parts[i] = sequence_set(n, what) end
    set = table.concat(parts, ",")
  end
  if type(set) ~= "string" or not set:match("^[%d:,%*]+$") and set ~= "$" then
    misuse(what .. ": " .. tostring(set) .. " is not a sequence set (like 1, 2:4, 1:*, or an array of numbers)")
  end
  return set
end

-- Fetch items: a string as it is (one item or a parenthesised list), or an array of names.
local function fetch_items_arg(items)
  if type(items) == "table" then
    for _, it in ipairs(items) do no_ctl(it, "a fetch item") end
    return "(" .. table.concat(items, " ") .. ")"
  end
  return no_ctl(items or "(FLAGS UID)", "the fetch items")
end

local function fetch_results(u)
  local msgs = {}
  for _, x in ipairs(u) do
    if x.type == "FETCH" then
      local m = msgs[x.number] or {}
      for k, v in pairs(x.items or {}) do m[k] = v end
      msgs[x.number] = m
    end
  end
  return msgs
end

local function do_fetch(s, prefix, set, items, opts)
  local line = prefix .. "FETCH " .. sequence_set(set, prefix .. "FETCH") .. " " .. fetch_items_arg(items)
  local r, u = run(s, line, opts)
  return fetch_results(u), r
end

--- FETCH: data about messages.
-- @param set message numbers: 5, "1:*", "2,4:6", or an array of numbers
-- @param items "(FLAGS UID BODY.PEEK[])", "ENVELOPE", or an array of item names
-- @return a table keyed by message number, each a table of items with upper-case keys
--   (`m["BODY[]"]`, `m.FLAGS` (array), `m.UID`, `m["RFC822.SIZE"]`, `m.ENVELOPE` (parsed,
--   see `parse_envelope`), `m.INTERNALDATE`, `m.BODYSTRUCTURE` (parsed list)); and the tagged
--   result. BODY.PEEK[...] comes back as BODY[...].
function Session:fetch(set, items, opts)
  return do_fetch(self, "", set, items, opts)
end

--- UID FETCH: as `fetch`, the set being UIDs (the result is still keyed by message number;
-- each entry has `UID`).
function Session:uid_fetch(set, items, opts)
  return do_fetch(self, "UID ", set, items, opts)
end

local function has_8bit(list)
  for _, v in ipairs(list) do
    if type(v) == "string" and v:find("[\128-\255]") then return true end
  end
  return false
end

local function do_search(s, prefix, criteria, opts)
  local cmd
  if type(criteria) == "table" then
    cmd = { prefix .. "SEARCH" }
    if has_8bit(criteria) then
      cmd[2], cmd[3] = I.atom("CHARSET"), I.atom("UTF-8")
    end
    for _, c in ipairs(criteria) do cmd[#cmd + 1] = c end
  else
    cmd = prefix .. "SEARCH " .. no_ctl(criteria or "ALL", "the search criteria")
  end
  local r, u = run(s, cmd, opts)
  local out = {}
  for _, x in ipairs(u) do
    if x.type == "SEARCH" then
      for _, n in ipairs(x.numbers) do out[#out + 1] = n end
    end
  end
  return out, r
end

--- SEARCH: message numbers matching the criteria.
-- @param criteria a string sent as it is ("UNSEEN", "SUBJECT \"hello\""), or an array of
--   parts encoded like command arguments (`{"SUBJECT", "hello world"}`; use `imap.atom` for
--   sequence sets); non-ASCII parts add CHARSET UTF-8
-- @return an array of numbers and the tagged result
function Session:search(criteria, opts)
  return do_search(self, "", criteria, opts)
end

--- UID SEARCH: as `search`, returning UIDs.
function Session:uid_search(criteria, opts)
  return do_search(self, "UID ", criteria, opts)
end

local function flag_list(flags)
  if type(flags) == "string" then flags = { flags } end
  local out = {}
  for i, f in ipairs(flags or {}) do
    if f:find("[%s%c()]") then misuse("store: " .. string.format("%q", f) .. " is not a flag") end
    out[i] = f
  end
  return "(" .. table.concat(out, " ") .. ")"
end

local function do_store(s, prefix, set, action, flags, opts)
  action = tostring(action or "+FLAGS")
  if not action:upper():match("^[%+%-]?FLAGS%f[^%w]") and not action:upper():match("^[%+%-]?FLAGS$") then
    misuse("store: the action must be FLAGS, +FLAGS or -FLAGS (optionally .SILENT), not " .. action)
  end
  no_ctl(action, "the store action")
  local line = prefix .. "STORE " .. sequence_set(set, "STORE") .. " " .. action .. " " .. flag_list(flags)
  local r, u = run(s, line, opts)
  return fetch_results(u), r
end

--- STORE: changes flags.
-- @param set message numbers
-- @param action "+FLAGS", "-FLAGS", "FLAGS" (add ".SILENT" for no answer)
-- @param flags a flag or an array of flags ({"\\Seen", "\\Deleted"})
-- @return the FETCH data the server sent back (keyed by number) and the tagged result
function Session:store(set, action, flags, opts)
  return do_store(self, "", set, action, flags, opts)
end

--- UID STORE.
function Session:uid_store(set, action, flags, opts)
  return do_store(self, "UID ", set, action, flags, opts)
end

local function copyuid(r, u)
  if r.copyuid then return r.copyuid end
  for _, x in ipairs(u) do
    if x.copyuid then return x.copyuid end
  end
  return nil
end

local function do_copy(s, verb, set, name, opts)
  if verb:find("MOVE") and not caps(s).MOVE and not (opts and opts.expect) then
    parley.raise(1, "expect", verb .. ": " .. s.conn.peer .. " does not offer MOVE (RFC 6851); use copy, store +FLAGS (\\Deleted) and expunge")
  end
  local r, u = run(s, { verb .. " " .. sequence_set(set, verb), mailbox(s, name) }, opts)
  r.copyuid = copyuid(r, u)
  return r, u
end

--- COPY messages to another mailbox.
-- @return the tagged result (with `copyuid` under UIDPLUS) and the untagged responses
function Session:copy(set, name, opts) return do_copy(self, "COPY", set, name, opts) end

--- UID COPY.
function Session:uid_copy(set, name, opts) return do_copy(self, "UID COPY", set, name, opts) end

--- MOVE messages to another mailbox (RFC 6851).
function Session:move(set, name, opts) return do_copy(self, "MOVE", set, name, opts) end

--- UID MOVE.
function Session:uid_move(set, name, opts) return do_copy(self, "UID MOVE", set, name, opts) end

--- EXPUNGE: removes the messages flagged \Deleted.
-- @return an array of the expunged message numbers (as the server reported them, in order)
--   and the tagged result
function Session:expunge(opts)
  local r, u = run(self, "EXPUNGE", opts)
  local out = {}
  for _, x in ipairs(u) do
    if x.type == "EXPUNGE" then out[#out + 1] = x.number end
  end
  return out, r
end

--- UID EXPUNGE (UIDPLUS): removes only the given \Deleted messages.
function Session:uid_expunge(set, opts)
  local r, u = run(self, "UID EXPUNGE " .. sequence_set(set, "UID EXPUNGE"), opts)
  local out = {}
  for _, x in ipairs(u) do
    if x.type == "EXPUNGE" then out[#out + 1] = x.number end
  end
  return out, r
end

--- CHECK.
function Session:check(opts) return run(self, "CHECK", opts) end

--- CLOSE: closes the selected mailbox, expunging silently (the connection stays open).
function Session:close_mailbox(opts)
  local r = run(self, "CLOSE", opts)
  self.mailbox = nil
  return r
end

--- UNSELECT (RFC 3691): closes the mailbox without expunging.
function Session:unselect(opts)
  local r = run(self, "UNSELECT", opts)
  self.mailbox = nil
  return r
end

--- ENABLE (RFC 5161) extensions, e.g. "CONDSTORE", "UTF8=ACCEPT".
function Session:enable(...)
  local names = { ... }
  for _, n in ipairs(names) do I.atom(n) end
  local r, u = run(self, "ENABLE " .. table.concat(names, " "))
  for _, x in ipairs(u) do
    if x.type == "ENABLED" then
      for _, v in ipairs(x.values or {}) do
        if tostring(v):upper() == "UTF8=ACCEPT" then self.utf8_enabled = true end
      end
    end
  end
  return r, u
end

---------------------------------------------------------------------------------------------
-- IDLE

-- Untagged data that is news (not a keep-alive "* OK still here").
local function is_news(r)
  return r.type ~= "OK" or r.code ~= nil
end

-- Reads untagged data until `stop` says so ("news") or the deadline passes ("timeout").
local function idle_wait(s, seconds, stop, got)
  local deadline = parley.clock() + seconds
  while true do
    local left = deadline - parley.clock()
    if left <= 0 then return "timeout" end
    local unit, why = s.conn:read_reply(left)
    if not unit then
      if why == "timeout" then return "timeout" end
      parley.raise(1, "eof", "IDLE: " .. s.conn.peer .. " closed the connection")
    end
    local r = I.parse_response(unit)
    if r.tag ~= "*" then protocol_error("IDLE: unexpected response \"" .. r.text .. "\"") end
    absorb(s, r)
    got[#got + 1] = r
    if stop(r, got) then
      -- take what arrived with it (EXISTS and RECENT come together)
      while s.conn:pending() > 0 do
        local more = s.conn:read_reply(1)
        if not more then return "news" end
        local x = I.parse_response(more)
        if x.tag == "*" then absorb(s, x) end
        got[#got + 1] = x
      end
      return "news"
    end
  end
end

--- IDLE (RFC 2177): waits for the server to report changes, then sends DONE.
-- Returns as soon as news arrives (EXISTS, EXPUNGE, FETCH, ... — not keep-alive OKs), or
-- after `timeout` seconds with whatever came (possibly nothing).
-- @param timeout seconds to wait at most (default: the connection's timeout)
-- @param opts optional: `until` (a function(response, all) returning true to stop; e.g. stop
--   on `r.type == "EXISTS"`), `expect`
-- @return an array of the untagged responses that arrived (parsed), the tagged result, and
--   why IDLE ended: "news" (what `until` waits for arrived, by default any news), "timeout"
--   (the time ran out; the array holds whatever came, keep-alives included) or "refused"
--   (the server answered the IDLE command itself, without a "+")
function Session:idle(timeout, opts)
  opts = opts or {}
  if not caps(self).IDLE and opts.expect == nil then
    parley.raise(1, "expect", "IDLE: " .. self.conn.peer .. " does not offer IDLE (RFC 2177)")
  end
  local tag = next_tag(self)
  local got = {}
  self.conn:send(tag .. " IDLE")
  local early = collect(self, tag, "IDLE", nil, got, function() return "stop" end)
  if early then
    check_tagged(self, "IDLE", opts.expect, early)
    return got, early, "refused"
  end
  local stop = opts["until"] or function(r) return is_news(r) end
  local woke = idle_wait(self, timeout or self.conn.timeout, stop, got)
  self.conn:send("DONE")
  local r = collect(self, tag, "IDLE", nil, got)
  check_tagged(self, "IDLE", opts.expect, r)
  return got, r, woke
end

return M
