--- A session's view of its mailbox in the mock IMAP server: bringing it up to date (EXPUNGE
-- and EXISTS for what other sessions changed) and the messages a sequence set names. Part of
-- parley.mock.imap.
-- @module parley.mock.imap.view

local base = require "parley.mock.server"

local M = {}

local shown = base.shown

-- Brings the session's view up to date: expunged messages and new ones.
local function sync(s, out)
  if not s.view then return end
  local box = s.box
  local added = false
  if s.removals == (box.removals or 0) then
    -- nothing left the mailbox since the last look: new mail is at its end (the cost is the
    -- new mail's, which keeps a wake of hundreds of IDLE sessions cheap)
    for i = #s.view + 1, #box.messages do
      s.view[i] = box.messages[i]
      added = true
    end
  else
    local present = {}
    for _, m in ipairs(box.messages) do present[m] = true end
    local kept = {}
    for i = #s.view, 1, -1 do -- from the end: each number is still right when it is sent
      if not present[s.view[i]] then
        out[#out + 1] = "* " .. i .. " EXPUNGE"
        s.exists = s.exists - 1
      end
    end
    for _, m in ipairs(s.view) do
      if present[m] then kept[#kept + 1] = m end
    end
    s.view = kept
    local inview = {}
    for _, m in ipairs(kept) do inview[m] = true end
    for _, m in ipairs(box.messages) do
      if not inview[m] then
        kept[#kept + 1] = m
        added = true
      end
    end
    s.removals = box.removals or 0
  end
  if added or #s.view ~= s.exists then
    out[#out + 1] = "* " .. #s.view .. " EXISTS"
    s.exists = #s.view
  end
end

-- The messages a sequence set names: a list of { n = seq, m = message }. The ranges are
-- sorted and merged first, so that the cost is the set's length plus the mailbox's size.
local function resolve(s, set, uid)
  local view = s.view
  local maxn = uid and (view[#view] and view[#view].uid or 0) or #view
  set = tostring(set)
  if set == "" then return nil, "invalid sequence set" end
  local ranges, sorted = {}, true
  for piece in set:gmatch("[^,]*") do
    local a, b = piece:match("^([%d%*]+):([%d%*]+)$")
    if not a then a, b = piece:match("^([%d%*]+)$"), nil end
    if not a then return nil, "invalid sequence set " .. shown(set:sub(1, 100)) end
    local lo = a == "*" and maxn or tonumber(a)
    local hi = b and (b == "*" and maxn or tonumber(b)) or lo
    if not lo or not hi then return nil, "invalid sequence set " .. shown(set:sub(1, 100)) end
    if lo > hi then lo, hi = hi, lo end
    if not uid and (lo < 1 or hi > #view) then
      return nil, "invalid message sequence number " .. shown(piece:sub(1, 100))
    end
    local last = ranges[#ranges]
    if last and lo < last[1] then sorted = false end
    ranges[#ranges + 1] = { lo, hi }
  end
  if not sorted then table.sort(ranges, function(x, y) return x[1] < y[1] end) end
  local merged = {}
  for _, r in ipairs(ranges) do
    local last = merged[#merged]
    if last and r[1] <= last[2] + 1 then
      if r[2] > last[2] then last[2] = r[2] end
    else
      merged[#merged + 1] = { r[1], r[2] }
    end
  end
  local out, ri = {}, 1
  for i, m in ipairs(view) do
    local key = uid and m.uid or i
    while merged[ri] and merged[ri][2] < key do ri = ri + 1 end
    local r = merged[ri]
    if not r then break end
    if r[1] <= key then out[#out + 1] = { n = i, m = m } end
  end
  return out
end

M.sync = sync
M.resolve = resolve

return M
