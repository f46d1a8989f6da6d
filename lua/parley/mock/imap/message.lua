--- The messages of the mock IMAP server as IMAP shows them: quoted strings and literals, dates,
-- header fields, ENVELOPE, BODYSTRUCTURE, BODY[section] and the FETCH response of one message.
-- Part of parley.mock.imap.
-- @module parley.mock.imap.message

local base = require "parley.mock.server"
local command = require "parley.mock.imap.command"

local M = {}

local str, atom = command.str, command.atom

local function quote(v)
  if v == nil then return "NIL" end
  v = tostring(v)
  if #v < 200 and not v:find('[%c"\\\128-\255]') then return '"' .. v .. '"' end
  return "{" .. #v .. "}\r\n" .. v
end

local function imap_date(t)
  return os.date("!%d-%b-%Y %H:%M:%S +0000", t)
end

---------------------------------------------------------------------------------------------
-- Messages: header fields, envelope, body structure

local function split(text)
  if text:sub(1, 2) == "\r\n" then return "", text:sub(3) end
  local cut = text:find("\r\n\r\n", 1, true)
  if not cut then return text, "" end
  return text:sub(1, cut + 1), text:sub(cut + 4)
end

local function fields(head)
  local out = {}
  for line in (head:gsub("\r\n[ \t]", " ")):gmatch("[^\r\n]+") do
    local colon = line:find(":", 1, true)
    local name = colon and colon > 1 and line:sub(1, colon - 1)
    if name and not name:find("%s") then
      local value = base.trim(line:sub(colon + 1))
      out[#out + 1] = { name = name, lname = name:lower(), value = value, raw = line }
    end
  end
  return out
end

local function field(head, name)
  for _, f in ipairs(fields(head)) do
    if f.lname == name:lower() then return f.value end
  end
  return nil
end

local function addresses(value)
  if not value or value == "" then return "NIL" end
  local parts, cur, depth, inq = {}, {}, 0, false
  for ch in value:gmatch(".") do
    if ch == '"' then inq = not inq end
    if not inq and ch == "<" then depth = depth + 1 end
    if not inq and ch == ">" then depth = depth - 1 end
    if ch == "," and not inq and depth <= 0 then
      parts[#parts + 1] = table.concat(cur)
      cur = {}
    else
      cur[#cur + 1] = ch
    end
  end
  parts[#parts + 1] = table.concat(cur)
  local out = {}
  for _, p in ipairs(parts) do
    p = base.trim(p)
    local name, addr
    local lt = p:find("<[^<>]*>$")
    if lt then
      name, addr = base.trim(p:sub(1, lt - 1)), p:sub(lt + 1, -2)
    else
      addr = p
    end
    if name then name = name:gsub('^"(.*)"$', "%1") end
    if name == "" then name = nil end
    local mbox, host = addr:match("^(.*)@([^@]*)$")
    if not mbox then mbox = addr end
    if mbox ~= "" then
      out[#out + 1] = "(" .. quote(name) .. " NIL " .. quote(mbox) .. " " .. quote(host) .. ")"
    end
  end
  if #out == 0 then return "NIL" end
  return "(" .. table.concat(out) .. ")"
end

local function envelope(m)
  local head = split(m.text)
  local function f(name) return field(head, name) end
  local from = addresses(f("From"))
  local sender = f("Sender") and addresses(f("Sender")) or from
  local reply = f("Reply-To") and addresses(f("Reply-To")) or from
  return "(" .. table.concat({
    quote(f("Date")), quote(f("Subject")), from, sender, reply, addresses(f("To")),
    addresses(f("Cc")), addresses(f("Bcc")), quote(f("In-Reply-To")), quote(f("Message-ID")),
  }, " ") .. ")"
end

local function count_lines(text)
  local _, n = text:gsub("\n", "")
  return n
end

local function params(value)
  local list = {}
  for k, v in (value or ""):gmatch(';%s*([%w%-]+)%s*=%s*"?([^";]*)"?') do
    list[#list + 1] = quote(k:upper()) .. " " .. quote(v)
  end
  return #list > 0 and "(" .. table.concat(list, " ") .. ")" or "NIL"
end

local function structure(text, depth)
  local head, body = split(text)
  local ctype = field(head, "Content-Type") or "text/plain; charset=us-ascii"
  local major, minor = ctype:match("^%s*([%w%-]+)/([%w%-%.%+]+)")
  major, minor = (major or "text"):upper(), (minor or "plain"):upper()
  local boundary = ctype:match('[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]="([^"]+)"') or
    ctype:match("[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]=([^;%s]+)")
  if major == "MULTIPART" and boundary and depth < 8 then
    local parts, dash = {}, "--" .. boundary
    local rest = "\r\n" .. body
    local pieces = {}
    local pos = 1
    while true do
      local s, e = rest:find("\r\n" .. dash, pos, true)
      if not s then break end
      pieces[#pieces + 1] = { s = s, e = e }
      pos = e + 1
    end
    for i = 1, #pieces - 1 do
      local from = rest:find("\r\n", pieces[i].e + 1, true)
      if from then
        parts[#parts + 1] = structure(rest:sub(from + 2, pieces[i + 1].s - 1) .. "\r\n", depth + 1)
      end
    end
    if #parts > 0 then return "(" .. table.concat(parts) .. " " .. quote(minor) .. ")" end
  end
  local cte = (field(head, "Content-Transfer-Encoding") or "7BIT"):upper()
  local p = params(ctype)
  if major == "TEXT" and p == "NIL" then p = '("CHARSET" "US-ASCII")' end
  local out = quote(major) .. " " .. quote(minor) .. " " .. p .. " " ..
    quote(field(head, "Content-ID")) .. " " .. quote(field(head, "Content-Description")) .. " " ..
    quote(cte) .. " " .. #body
  if major == "TEXT" then out = out .. " " .. count_lines(body) end
  return "(" .. out .. ")"
end

local function flag_list(m)
  local list = {}
  for f in pairs(m.flags) do list[#list + 1] = f end
  table.sort(list)
  return "(" .. table.concat(list, " ") .. ")"
end

---------------------------------------------------------------------------------------------
-- FETCH

local MACROS = {
  ALL = { "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE" },
  FAST = { "FLAGS", "INTERNALDATE", "RFC822.SIZE" },
  FULL = { "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY" },
}

local function header_fields(head, names, negate)
  local want = {}
  for n in names:gmatch("[^%s%(%)]+") do want[(str(n) or n):lower():gsub('"', "")] = true end
  local out = {}
  local unfolded = {}
  for line in head:gmatch("[^\n]*\n") do
    if line:match("^[ \t]") and #unfolded > 0 then
      unfolded[#unfolded] = unfolded[#unfolded] .. line
    else
      unfolded[#unfolded + 1] = line
    end
  end
  for _, f in ipairs(unfolded) do
    local name = f:match("^([^:%s]+):")
    if name and (want[name:lower()] ~= nil) ~= (negate == true) then out[#out + 1] = f end
  end
  return table.concat(out) .. "\r\n"
end

-- The bytes of a BODY[section], or nil when the section is not understood.
local function section_text(m, section)
  local sec = section:upper()
  local head, body = split(m.text)
  if sec == "" then return m.text end
  if sec == "HEADER" then return head .. "\r\n" end
  if sec == "TEXT" then return body end
  if sec == "1" then return body end
  local names = section:match("^[Hh][Ee][Aa][Dd][Ee][Rr]%.[Ff][Ii][Ee][Ll][Dd][Ss]%s*(%b())$")
  if names then return header_fields(head, names, false) end
  names = section:match("^[Hh][Ee][Aa][Dd][Ee][Rr]%.[Ff][Ii][Ee][Ll][Dd][Ss]%.[Nn][Oo][Tt]%s*(%b())$")
  if names then return header_fields(head, names, true) end
  return nil
end

-- The items of a FETCH: a list of item names (upper-case, BODY sections as given).
local function fetch_items(v)
  local items = {}
  local function add(x)
    local a = atom(x)
    if not a then return false end
    local up = a:upper()
    if MACROS[up] then
      for _, i in ipairs(MACROS[up]) do items[#items + 1] = i end
    else
      items[#items + 1] = a
    end
    return true
  end
  if type(v) == "table" and v.list then
    for _, x in ipairs(v) do
      if not add(x) then return nil end
    end
  elseif not add(v) then
    return nil
  end
  return items
end

-- One FETCH response; `uid`: include UID. Returns the bytes, or nil and the bad item.
local function fetch_one(s, n, m, items, uid)
  local parts, set_seen, has_uid, has_flags = {}, false, false, false
  for _, item in ipairs(items) do
    local up = item:upper()
    if up == "UID" then
      has_uid = true
      parts[#parts + 1] = "UID " .. m.uid
    elseif up == "FLAGS" then
      has_flags = true
      parts[#parts + 1] = "FLAGS " .. flag_list(m)
    elseif up == "RFC822.SIZE" then
      parts[#parts + 1] = "RFC822.SIZE " .. m.size
    elseif up == "INTERNALDATE" then
      parts[#parts + 1] = 'INTERNALDATE "' .. imap_date(m.internaldate) .. '"'
    elseif up == "ENVELOPE" then
      parts[#parts + 1] = "ENVELOPE " .. envelope(m)
    elseif up == "BODYSTRUCTURE" or up == "BODY" then
      parts[#parts + 1] = up .. " " .. structure(m.text, 0)
    elseif up == "RFC822" or up == "RFC822.HEADER" or up == "RFC822.TEXT" then
      local text = up == "RFC822" and m.text or up == "RFC822.HEADER" and section_text(m, "HEADER") or
        section_text(m, "TEXT")
      if up ~= "RFC822.HEADER" then set_seen = true end
      parts[#parts + 1] = up .. " {" .. #text .. "}\r\n" .. text
    else
      local peek, section, partial = up:match("^BODY(%.?P?E?E?K?)%[(.-)%](.*)$")
      if not section then return nil, item end
      section = item:match("%[(.*)%]")
      local text = section_text(m, section)
      if not text or (peek ~= "" and peek ~= ".PEEK") then return nil, item end
      local name = "BODY[" .. section .. "]"
      if partial ~= "" then
        local from, count = partial:match("^<(%d+)%.(%d+)>$")
        -- offsets beyond 4 GB are no message's (and would not be integers)
        if not from or #from > 10 or #count > 10 then return nil, item end
        text = text:sub(math.tointeger(tonumber(from)) + 1, tonumber(from) + tonumber(count))
        name = name .. "<" .. from .. ">"
      end
      if peek == "" then set_seen = true end
      parts[#parts + 1] = name .. " {" .. #text .. "}\r\n" .. text
    end
  end
  if set_seen and not s.readonly and not m.flags["\\Seen"] then
    m.flags["\\Seen"] = true
    if not has_flags then parts[#parts + 1] = "FLAGS " .. flag_list(m) end
  end
  if uid and not has_uid then table.insert(parts, 1, "UID " .. m.uid) end
  return "* " .. n .. " FETCH (" .. table.concat(parts, " ") .. ")\r\n"
end

M.quote = quote
M.imap_date = imap_date
M.split = split
M.field = field
M.flag_list = flag_list
M.fetch_items = fetch_items
M.fetch_one = fetch_one

return M
