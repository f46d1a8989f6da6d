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
-- Every user has one mailbox, INBOX. A message is a table: `uid`, `text` (the message as
-- received, CRLF line ends), `size`, `flags` (a set: `flags["\\Seen"] = true`), `from`, `to`
-- (the envelope), `internaldate` (seconds since the epoch).
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
    uidvalidity = opts.uidvalidity or os.time(),
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
  meta = meta or {}
  local box = self:mailbox(user)
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

--- Removes the given messages (tables from `messages`) from a user's mailbox.
-- @return how many were removed
function Store:remove(user, list)
  local doomed = {}
  for _, m in ipairs(list) do doomed[m] = true end
  local box = self:mailbox(user)
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

--- Calls `fn()` after each change of a user's mailbox (a delivery, a removal) until
-- `unwatch`. The IMAP mock's IDLE waits on this instead of polling.
-- @return a token for `unwatch`
function Store:watch(user, fn)
  local box = self:mailbox(user)
  box.watchers = box.watchers or {}
  local token = {}
  box.watchers[token] = fn
  return token
end

--- Stops calling a function given to `watch`.
function Store:unwatch(user, token)
  local box = self:mailbox(user)
  if box.watchers then box.watchers[token] = nil end
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
