--- SEARCH in the mock IMAP server: search keys compiled into a predicate over messages, header
-- fields matched by their RFC 2047 decoded text, keys nested at most 32 deep. Part of
-- parley.mock.imap.
-- @module parley.mock.imap.search

local base = require "parley.mock.server"
local crypto = require "parley.crypto"
local command = require "parley.mock.imap.command"
local message = require "parley.mock.imap.message"
local view = require "parley.mock.imap.view"

local M = {}

local shown = base.shown
local str, atom, MAX_DEPTH = command.str, command.atom, command.MAX_DEPTH
local split, field = message.split, message.field
local resolve = view.resolve

local function lower_find(hay, needle)
  return hay and hay:lower():find(needle:lower(), 1, true) ~= nil
end

local function latin1_to_utf8(text)
  return (text:gsub("[\128-\255]", function(c)
    local b = c:byte()
    return string.char(0xC0 | (b >> 6), 0x80 | (b & 0x3F))
  end))
end

local LATIN1 = { ["iso-8859-1"] = true, ["iso-8859-15"] = true, latin1 = true,
                 ["windows-1252"] = true }

-- A header value with its RFC 2047 encoded words decoded ("=?UTF-8?B?...?=", "=?...?Q?...?="),
-- for SEARCH to match the text a person reads. UTF-8 and ASCII words are taken as they are,
-- ISO-8859-1 ones made UTF-8; white space between two encoded words goes. Plain finds only:
-- linear in the value's length.
local function decode_words(value)
  if not value or not value:find("=?", 1, true) then return value end
  local out, pos, after_word = {}, 1, false
  while true do
    local a = value:find("=?", pos, true)
    local q1 = a and value:find("?", a + 2, true)
    local q2 = q1 and value:find("?", q1 + 1, true)
    local e = q2 and value:find("?=", q2 + 1, true)
    if not e then break end
    local decoded
    if q2 == q1 + 2 then
      local charset = value:sub(a + 2, q1 - 1):lower()
      local star = charset:find("*", 1, true) -- RFC 2231 language: utf-8*en
      if star then charset = charset:sub(1, star - 1) end
      local enc, text = value:sub(q1 + 1, q1 + 1):upper(), value:sub(q2 + 1, e - 1)
      if enc == "B" then
        decoded = crypto.b64decode(text)
      elseif enc == "Q" then
        decoded = text:gsub("_", " "):gsub("=(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
      end
      if decoded and LATIN1[charset] then decoded = latin1_to_utf8(decoded) end
    end
    local between = value:sub(pos, a - 1)
    if decoded then
      if not (after_word and not between:find("%S")) then out[#out + 1] = between end
      out[#out + 1] = decoded
    else
      out[#out + 1] = between .. value:sub(a, e + 1)
    end
    after_word = decoded ~= nil
    pos = e + 2
  end
  out[#out + 1] = value:sub(pos)
  return table.concat(out)
end

local function parse_date(text)
  local d, mon, y = tostring(text):match("^(%d%d?)%-(%a%a%a)%-(%d%d%d%d)$")
  if not d then return nil end
  local months = { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6, jul = 7, aug = 8,
                   sep = 9, oct = 10, nov = 11, dec = 12 }
  local m = months[mon:lower()]
  if not m then return nil end
  return os.time { year = tonumber(y), month = m, day = tonumber(d), hour = 0 }
end

-- Compiles search keys (from position i of list) into a predicate; returns it and the next i.
-- `depth` counts the keys it is inside of (NOT, OR, lists): at most MAX_DEPTH.
local function search_key(s, list, i, depth)
  depth = (depth or 0) + 1
  if depth > MAX_DEPTH then return nil, i, "search keys nested too deep" end
  local v = list[i]
  if v == nil then return nil, i, "missing search key" end
  if type(v) == "table" and v.list then
    local preds = {}
    local j = 1
    while j <= #v do
      local p, nj, err = search_key(s, v, j, depth)
      if not p then return nil, i, err end
      preds[#preds + 1] = p
      j = nj
    end
    return function(n, m)
      for _, p in ipairs(preds) do if not p(n, m) then return false end end
      return true
    end, i + 1
  end
  local key = (atom(v) or ""):upper()
  local function arg(k)
    local a = list[i + k]
    return str(a)
  end
  local flag = { ANSWERED = "\\Answered", DELETED = "\\Deleted", DRAFT = "\\Draft",
                 FLAGGED = "\\Flagged", SEEN = "\\Seen" }
  if key == "ALL" then return function() return true end, i + 1 end
  if flag[key] then return function(_, m) return m.flags[flag[key]] == true end, i + 1 end
  if key:sub(1, 2) == "UN" and flag[key:sub(3)] then
    local f = flag[key:sub(3)]
    return function(_, m) return not m.flags[f] end, i + 1
  end
  if key == "NEW" or key == "RECENT" then return function() return false end, i + 1 end
  if key == "OLD" then return function() return true end, i + 1 end
  if key == "KEYWORD" or key == "UNKEYWORD" then
    local f = arg(1)
    if not f then return nil, i, "KEYWORD needs a flag" end
    return function(_, m) return (m.flags[f] == true) == (key == "KEYWORD") end, i + 2
  end
  if key == "FROM" or key == "TO" or key == "CC" or key == "BCC" or key == "SUBJECT" then
    local needle = arg(1)
    if not needle then return nil, i, key .. " needs a string" end
    local name = key:sub(1, 1) .. key:sub(2):lower()
    return function(_, m) return lower_find(decode_words(field(split(m.text), name)), needle) end, i + 2
  end
  if key == "HEADER" then
    local name, needle = arg(1), arg(2)
    if not needle then return nil, i, "HEADER needs a field name and a string" end
    return function(_, m)
      local value = decode_words(field(split(m.text), name))
      return value ~= nil and (needle == "" or lower_find(value, needle))
    end, i + 3
  end
  if key == "BODY" or key == "TEXT" then
    local needle = arg(1)
    if not needle then return nil, i, key .. " needs a string" end
    return function(_, m)
      local _, body = split(m.text)
      return lower_find(key == "BODY" and body or m.text, needle)
    end, i + 2
  end
  if key == "LARGER" or key == "SMALLER" then
    local n = tonumber(arg(1) or "")
    if not n then return nil, i, key .. " needs a number" end
    return function(_, m)
      if key == "LARGER" then return m.size > n end
      return m.size < n
    end, i + 2
  end
  if key == "BEFORE" or key == "ON" or key == "SINCE" or key == "SENTBEFORE" or key == "SENTON" or
      key == "SENTSINCE" then
    local t = parse_date(arg(1))
    if not t then return nil, i, key .. " needs a date like 1-Feb-2024" end
    return function(_, m)
      local day = m.internaldate - (m.internaldate - t) % 86400
      if key:match("BEFORE$") then return m.internaldate < t end
      if key:match("ON$") then return day == t end
      return m.internaldate >= t
    end, i + 2
  end
  if key == "NOT" then
    local p, ni, err = search_key(s, list, i + 1, depth)
    if not p then return nil, i, err end
    return function(n, m) return not p(n, m) end, ni
  end
  if key == "OR" then
    local a, ni, err = search_key(s, list, i + 1, depth)
    if not a then return nil, i, err end
    local b, nj, err2 = search_key(s, list, ni, depth)
    if not b then return nil, i, err2 end
    return function(n, m) return a(n, m) or b(n, m) end, nj
  end
  if key == "UID" then
    local set = arg(1)
    local hits, err = resolve(s, set or "", true)
    if not hits then return nil, i, err end
    local ok = {}
    for _, h in ipairs(hits) do ok[h.m] = true end
    return function(_, m) return ok[m] == true end, i + 2
  end
  if key:match("^[%d%*][%d%*:,]*$") then
    local hits, err = resolve(s, key, false)
    if not hits then return nil, i, err end
    local ok = {}
    for _, h in ipairs(hits) do ok[h.m] = true end
    return function(_, m) return ok[m] == true end, i + 1
  end
  return nil, i, "unknown search key " .. shown(key)
end

M.search_key = search_key

return M
