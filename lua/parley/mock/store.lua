--- The in-memory mailbox store shared by the mock servers.
--
-- The SMTP mock delivers into it, the POP3 and IMAP mocks read, flag and delete from it. One
-- store per `parley serve`; a script may make its own and hand it to several mocks:
--
--     local store = require("parley.mock.store").new()
--     local smtp = require("parley.mock.smtp").start { users = { alice = "pw" }, store = store }
--     local imap = require("parley.mock.imap").start { users = { alice = "pw" }, store = store }
--     ...
--     store:wait("alice", 1, 5)              -- until alice has a message (at most 5 s)
--     print(store:messages("alice")[1].text)
--
-- Every user has an INBOX, where mail is delivered, and folders for IMAP: Sent, Drafts and
-- Trash (SPECIAL-USE \\Sent, \\Drafts, \\Trash) from the start, more with `create`
-- ("/" separates levels). A message is a table: `uid`, `text` (the message as received, CRLF
-- line ends), `size`, `flags` (a set: `flags["\\Seen"] = true`), `from`, `to` (the
-- envelope), `internaldate` (seconds since the epoch).
-- @module parley.mock.store

local M = {}

local Store = {}
Store.__index = Store

local function key(user)
  return string.lower(tostring(user))
end

-- Tells the watchers of a mailbox that it changed.
local function changed(box)
  if not box.watchers then return end
  for _, fn in pairs(box.watchers) do pcall(fn) end
end

--- A new, empty store.
-- @param opts optional: `uidvalidity` (the IMAP UIDVALIDITY of every mailbox; default: the time)
-- @return the store
function M.new(opts)
  opts = opts or {}
  return setmetatable({
    boxes = {},
    folder_sets = {},
    uidvalidity = opts.uidvalidity or os.time(),
    made = 0,
    delivered = 0,
  }, Store)
end

--- The mailbox of a user (made on first use): `{ uidvalidity, uidnext, messages }`.
-- @param user the user name (case does not matter)
function Store:mailbox(user)
  local k = key(user)
  local box = self.boxes[k]
  if not box then
    box = { name = "INBOX", user = k, uidvalidity = self.uidvalidity, uidnext = 1, messages = {} }
    self.boxes[k] = box
  end
  return box
end

--- Delivers a message into a user's INBOX.
-- @param user the user name
-- @param text the message (header, blank line, body); line ends are made CRLF
-- @param meta optional: `from`, `to` (the envelope), `flags` (a list), `internaldate`
-- @return the stored message
function Store:deliver(user, text, meta)
  return self:add(self:mailbox(user), text, meta)
end

--- Adds a message to a mailbox (a table from `mailbox` or `folder`); as `deliver`.
function Store:add(box, text, meta)
  meta = meta or {}
  text = tostring(text):gsub("\r?\n", "\r\n")
  local flags = {}
  for _, f in ipairs(meta.flags or {}) do flags[f] = true end
  local msg = {
    uid = box.uidnext, text = text, size = #text, flags = flags,
    from = meta.from, to = meta.to, internaldate = meta.internaldate or os.time(),
  }
  box.uidnext = box.uidnext + 1
  box.messages[#box.messages + 1] = msg
  self.delivered = self.delivered + 1
  changed(box)
  return msg
end

--- The messages of a user, oldest first (the store's own list: do not change it).
function Store:messages(user)
  return self:mailbox(user).messages
end

--- How many messages a user has.
function Store:count(user)
  return #self:mailbox(user).messages
end

--- Removes the given messages (tables from `messages`) from a user's INBOX, or from `box`.
-- @return how many were removed
function Store:remove(user, list, box)
  local doomed = {}
  for _, m in ipairs(list) do doomed[m] = true end
  box = box or self:mailbox(user)
  local kept, removed = {}, 0
  for _, m in ipairs(box.messages) do
    if doomed[m] then
      removed = removed + 1
      m.expunged = true
    else
      kept[#kept + 1] = m
    end
  end
  box.messages = kept
  if removed > 0 then
    box.removals = (box.removals or 0) + 1
    changed(box)
  end
  return removed
end

--- Removes every message flagged `\Deleted` from a user's mailbox.
-- @return the list of messages removed
function Store:expunge(user)
  local gone = {}
  for _, m in ipairs(self:mailbox(user).messages) do
    if m.flags["\\Deleted"] then gone[#gone + 1] = m end
  end
  self:remove(user, gone)
  return gone
end

--- Calls `fn()` after each change of a user's INBOX (or of `box`): a delivery, a removal,
-- until `unwatch`. The IMAP mock's IDLE waits on this instead of polling.
-- @return a token for `unwatch`
function Store:watch(user, fn, box)
  box = box or self:mailbox(user)
  box.watchers = box.watchers or {}
  local token = {}
  box.watchers[token] = fn
  return token
end

--- Stops calling a function given to `watch`.
function Store:unwatch(user, token, box)
  box = box or self:mailbox(user)
  if box.watchers then box.watchers[token] = nil end
end

---------------------------------------------------------------------------------------------
-- Folders (IMAP)

--- The folders made for every user, with their SPECIAL-USE attribute.
M.SPECIAL = { { "Sent", "\\Sent" }, { "Drafts", "\\Drafts" }, { "Trash", "\\Trash" } }
--- Folders a user may have, at most.
M.MAX_FOLDERS = 1000

local function new_box(self, name, user, special)
  self.made = self.made + 1
  return { name = name, user = user, uidvalidity = self.uidvalidity + self.made, uidnext = 1,
           messages = {}, special = special }
end

--- A user's folders: a table name -> mailbox, INBOX included (do not change it).
function Store:folders(user)
  local k = key(user)
  local set = self.folder_sets[k]
  if not set then
    set = { INBOX = self:mailbox(user) }
    for _, sp in ipairs(M.SPECIAL) do set[sp[1]] = new_box(self, sp[1], k, sp[2]) end
    self.folder_sets[k] = set
  end
  return set
end

--- A user's folder by name ("INBOX" in any case), or nil.
function Store:folder(user, name)
  if tostring(name):upper() == "INBOX" then return self:mailbox(user) end
  return self:folders(user)[name]
end

-- Whether a new folder name is acceptable: 1 to 255 bytes, no control characters, no
-- wildcards, no empty level.
local function valid_name(name)
  return #name > 0 and #name <= 255 and not name:find("[%c%*%%]") and name:sub(1, 1) ~= "/" and
    not name:find("//", 1, true)
end

--- Makes a folder, and the levels above it that do not exist yet. A trailing "/" is dropped
-- (it only says more levels will come).
-- @return the mailbox, or nil and "exists" | "invalid" | "limit"
function Store:create(user, name)
  if name:sub(-1) == "/" then name = name:sub(1, -2) end
  if not valid_name(name) or name:upper() == "INBOX" then
    return nil, name:upper() == "INBOX" and "exists" or "invalid"
  end
  local set = self:folders(user)
  if set[name] then return nil, "exists" end
  local n = 0
  for _ in pairs(set) do n = n + 1 end
  local pos = 1
  while true do
    local slash = name:find("/", pos, true)
    local level = slash and name:sub(1, slash - 1) or name
    if not set[level] and level:upper() ~= "INBOX" then
      if n >= M.MAX_FOLDERS then return nil, "limit" end
      set[level] = new_box(self, level, key(user), nil)
      n = n + 1
    end
    if not slash then break end
    pos = slash + 1
  end
  return set[name]
end

--- Deletes a folder and its messages (not INBOX; the folders below it stay).
-- @return true, or nil and "inbox" | "missing"
function Store:delete(user, name)
  if tostring(name):upper() == "INBOX" then return nil, "inbox" end
  local set = self:folders(user)
  local box = set[name]
  if not box then return nil, "missing" end
  set[name] = nil
  box.deleted = true
  self:remove(user, box.messages, box)
  return true
end

--- Renames a folder and the folders below it. Renaming INBOX moves its messages to a new
-- folder and leaves INBOX empty (RFC 3501).
-- @return true, or nil and "missing" | "exists" | "invalid"
function Store:rename(user, from, to)
  local set = self:folders(user)
  local box = self:folder(user, from)
  if not box then return nil, "missing" end
  if to:upper() == "INBOX" or set[to] then return nil, "exists" end
  if not valid_name(to) then return nil, "invalid" end
  if box == self:mailbox(user) then
    local moved = self:create(user, to)
    if not moved then return nil, "invalid" end
    for _, m in ipairs(box.messages) do
      self:add(moved, m.text, { flags = (function()
        local l = {}
        for f in pairs(m.flags) do l[#l + 1] = f end
        return l
      end)(), from = m.from, to = m.to, internaldate = m.internaldate })
    end
    self:remove(user, box.messages, box)
    return true
  end
  local prefix = from .. "/"
  local renames = { [from] = to }
  for name in pairs(set) do
    if name:sub(1, #prefix) == prefix then renames[name] = to .. "/" .. name:sub(#prefix + 1) end
  end
  for old, new in pairs(renames) do
    if set[new] and not renames[new] then return nil, "exists" end
  end
  local boxes = {}
  for old in pairs(renames) do boxes[old] = set[old]; set[old] = nil end
  for old, new in pairs(renames) do
    boxes[old].name = new
    set[new] = boxes[old]
  end
  return true
end

--- The user names that have a mailbox.
function Store:users()
  local out = {}
  for k in pairs(self.boxes) do out[#out + 1] = k end
  table.sort(out)
  return out
end

--- Waits until a user has at least `n` messages, polling every 20 ms.
-- @param user the user name
-- @param n the number of messages (default 1)
-- @param timeout seconds (default 10)
-- @return the messages, or nil and "timeout"
function Store:wait(user, n, timeout)
  local parley = require "parley"
  n = n or 1
  local deadline = parley.clock() + (timeout or 10)
  while #self:mailbox(user).messages < n do
    if parley.clock() >= deadline then return nil, "timeout" end
    parley.sleep(0.02)
  end
  return self:mailbox(user).messages
end

return M
