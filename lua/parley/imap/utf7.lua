--- Modified UTF-7, the encoding of IMAP mailbox names (RFC 3501 section 5.1.3): a pure codec,
-- apart from the IMAP session (`imap.utf7_encode` and `imap.utf7_decode` are these).
-- @module parley.imap.utf7

local parley = require "parley"
local crypto = require "parley.crypto"

local M = {}

local function misuse(msg)
  parley.raise(2, "script", msg)
end


local function utf8_to_utf16be(s)
  local out = {}
  for _, cp in utf8.codes(s) do
    if cp >= 0x10000 then
      cp = cp - 0x10000
      local hi, lo = 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)
      out[#out + 1] = string.char(hi >> 8, hi & 0xFF, lo >> 8, lo & 0xFF)
    else
      out[#out + 1] = string.char(cp >> 8, cp & 0xFF)
    end
  end
  return table.concat(out)
end

local function utf16be_to_utf8(b)
  local out, i = {}, 1
  while i + 1 <= #b do
    local u = (b:byte(i) << 8) | b:byte(i + 1)
    i = i + 2
    if u >= 0xD800 and u < 0xDC00 and i + 1 <= #b then
      local lo = (b:byte(i) << 8) | b:byte(i + 1)
      u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
      i = i + 2
    end
    out[#out + 1] = utf8.char(u)
  end
  return table.concat(out)
end

--- Encodes a UTF-8 mailbox name in modified UTF-7.
function M.encode(name)
  if not utf8.len(name) then misuse("imap: the mailbox name is not valid UTF-8") end
  return (name:gsub("&", "&-"):gsub("[^ -~]+", function(run)
    local b64 = crypto.b64encode(utf8_to_utf16be(run)):gsub("=+$", ""):gsub("/", ",")
    return "&" .. b64 .. "-"
  end))
end

--- Decodes a modified UTF-7 mailbox name to UTF-8 (names that are not valid stay as they are).
function M.decode(name)
  if type(name) ~= "string" or not name:find("&", 1, true) then return name end
  return (name:gsub("&([^-]*)-", function(b64)
    if b64 == "" then return "&" end
    b64 = b64:gsub(",", "/")
    b64 = b64 .. string.rep("=", (4 - #b64 % 4) % 4)
    local bytes = crypto.b64decode(b64)
    return bytes and utf16be_to_utf8(bytes) or nil
  end))
end

return M
