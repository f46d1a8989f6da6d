--- A mock IMAP4rev1 server (RFC 3501) over the shared mailbox store.
--
--     local imap = require "parley.mock.imap"
--     local m = imap.start { users = { alice = "secret" }, store = store, tls = "starttls" }
--
-- It speaks CAPABILITY, NOOP, LOGOUT, ID, ENABLE, STARTTLS, LOGIN, AUTHENTICATE (PLAIN, LOGIN,
-- CRAM-MD5, with SASL-IR), SELECT / EXAMINE, LIST / LSUB, STATUS, NAMESPACE, APPEND (with
-- literals, LITERAL+), IDLE, CHECK, FETCH (FLAGS, UID, RFC822.SIZE, INTERNALDATE, ENVELOPE,
-- BODYSTRUCTURE, BODY[] / BODY.PEEK[] with HEADER, TEXT, HEADER.FIELDS and partial ranges,
-- RFC822*), STORE (FLAGS, +FLAGS, -FLAGS, .SILENT), SEARCH, EXPUNGE, CLOSE, UNSELECT, and the
-- UID forms of FETCH, STORE, SEARCH and EXPUNGE. Each user has one mailbox, INBOX; changes made
-- by other sessions (new mail, a POP3 deletion) are reported as EXISTS / EXPUNGE.
--
-- Options besides those of every mock (see `parley.mock.server`): `capabilities` (a list
-- replacing the capability words, or a function `fn(list, session)` returning it),
-- `advertise_starttls` (false: do not list STARTTLS although it works), `require_tls`
-- (LOGINDISABLED before STARTTLS), `max_literal` (bytes, default 50 MB). Hook keys:
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
                 "UNSELECT", "ENABLE", "CHILDREN" }
  if srv.tls == "starttls" and not s:is_tls() and opts.advertise_starttls ~= false then
    list[#list + 1] = "STARTTLS"
  end
  if opts.require_tls and not s:is_tls() then
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
-- Reading commands: lines and literals, then tokens

-- Reads one command: a list of segments, line, literal, line, literal, ..., line.
local function read_command(s)
  local line = s:read_line()
  local segs = { line }
  local max = s.server.opts.max_literal or 50 * 1024 * 1024
  while true do
    local n, plus = line:match("{(%d+)(%+?)}$")
    if not n then break end
    n = tonumber(n)
    if n > max then
      local tag = segs[1]:match("^(%S+)") or "*"
      s:log(string.format("literal of %d bytes refused", n))
      if plus == "" then
        s:emit("error", tag .. " BAD literal too large")
        return nil
      end
      s:emit("error", "* BYE literal too large")
      error(HANGUP, 0)
    end
    if plus == "" then s:emit("continuation", "+ Ready for literal data") end
    segs[#segs + 1] = s:read_bytes(n)
    line = s:read_line()
    segs[#segs + 1] = line
  end
  return segs
end

-- Tokens: atoms (strings), quoted strings and literals ({ str = ... }), "(" and ")".
local function tokenize(segs)
  local toks = {}
  for i = 1, #segs, 2 do
    local line = segs[i]
    if segs[i + 1] then line = line:gsub("{%d+%+?}$", "") end
    local pos, len = 1, #line
    while pos <= len do
      local c = line:sub(pos, pos)
      if c == " " then
        pos = pos + 1
      elseif c == "(" or c == ")" then
        toks[#toks + 1] = c
        pos = pos + 1
      elseif c == '"' then
        local out, j = {}, pos + 1
        while true do
          local ch = line:sub(j, j)
          if ch == "" then return nil, "unterminated quoted string" end
          if ch == "\\" then
            out[#out + 1] = line:sub(j + 1, j + 1)
            j = j + 2
          elseif ch == '"' then
            break
          else
            out[#out + 1] = ch
            j = j + 1
          end
        end
        toks[#toks + 1] = { str = table.concat(out) }
        pos = j + 1
      else
        local j, depth = pos, 0
        while j <= len do
          local ch = line:sub(j, j)
          if ch == "[" then
            depth = depth + 1
          elseif ch == "]" then
            depth = depth - 1
          elseif depth == 0 and (ch == " " or ch == "(" or ch == ")") then
            break
          end
          j = j + 1
        end
        toks[#toks + 1] = line:sub(pos, j - 1)
        pos = j
      end
    end
    if segs[i + 1] then toks[#toks + 1] = { str = segs[i + 1] } end
  end
  return toks
end

-- Nests the tokens: lists become tables with list = true.
local function nest(toks)
  local root = { list = true }
  local stack = { root }
  for _, t in ipairs(toks) do
    local top = stack[#stack]
    if t == "(" then
      local l = { list = true }
      top[#top + 1] = l
      stack[#stack + 1] = l
    elseif t == ")" then
      if #stack == 1 then return nil, "unbalanced parenthesis" end
      stack[#stack] = nil
    else
      top[#top + 1] = t
    end
  end
  if #stack ~= 1 then return nil, "unbalanced parenthesis" end
  return root
end

local function str(v)
  if type(v) == "string" then return v end
  if type(v) == "table" and v.str then return v.str end
  return nil
end

local function atom(v)
  return type(v) == "string" and v or nil
end

---------------------------------------------------------------------------------------------
-- Writing

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
  local head, body = text:match("^(.-\r\n)\r\n(.*)$")
  if not head then
    if text:match("^\r\n") then return "", text:sub(3) end
    return text, ""
  end
  return head, body
end

local function fields(head)
  local out = {}
  for line in (head:gsub("\r\n[ \t]", " ")):gmatch("[^\r\n]+") do
    local name, value = line:match("^([^:%s]+):%s*(.-)%s*$")
    if name then out[#out + 1] = { name = name, lname = name:lower(), value = value, raw = line } end
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
    p = p:gsub("^%s+", ""):gsub("%s+$", "")
    local name, addr = p:match("^(.-)%s*<([^>]*)>$")
    if not name then name, addr = nil, p end
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
      local s, e = rest:find("\r\n" .. dash:gsub("%p", "%%%0"), pos)
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
-- The mailbox view of a session

-- Brings the session's view up to date: expunged messages and new ones.
local function sync(s, out)
  if not s.view then return end
  local present = {}
  for _, m in ipairs(s.box.messages) do present[m] = true end
  for i = #s.view, 1, -1 do
    if not present[s.view[i]] then
      table.remove(s.view, i)
      s.exists = s.exists - 1
      out[#out + 1] = "* " .. i .. " EXPUNGE"
    end
  end
  local inview = {}
  for _, m in ipairs(s.view) do inview[m] = true end
  local added = false
  for _, m in ipairs(s.box.messages) do
    if not inview[m] then
      s.view[#s.view + 1] = m
      added = true
    end
  end
  if added or #s.view ~= s.exists then
    out[#out + 1] = "* " .. #s.view .. " EXISTS"
    s.exists = #s.view
  end
end

-- The messages a sequence set names: a list of { n = seq, m = message }.
local function resolve(s, set, uid)
  local view = s.view
  local maxn = uid and (view[#view] and view[#view].uid or 0) or #view
  local wanted = {}
  for piece in tostring(set):gmatch("[^,]+") do
    local a, b = piece:match("^([%d%*]+):([%d%*]+)$")
    if not a then a, b = piece:match("^([%d%*]+)$"), nil end
    if not a then return nil, "invalid sequence set " .. shown(set) end
    local lo = a == "*" and maxn or tonumber(a)
    local hi = b and (b == "*" and maxn or tonumber(b)) or lo
    if not lo or not hi then return nil, "invalid sequence set " .. shown(set) end
    if lo > hi then lo, hi = hi, lo end
    if not uid and (lo < 1 or hi > #view) then
      return nil, "invalid message sequence number " .. shown(piece)
    end
    wanted[#wanted + 1] = { lo, hi }
  end
  local out = {}
  for i, m in ipairs(view) do
    local key = uid and m.uid or i
    for _, r in ipairs(wanted) do
      if key >= r[1] and key <= r[2] then
        out[#out + 1] = { n = i, m = m }
        break
      end
    end
  end
  return out
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
        if not from then return nil, item end
        text = text:sub(tonumber(from) + 1, tonumber(from) + tonumber(count))
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

---------------------------------------------------------------------------------------------
-- SEARCH

local function lower_find(hay, needle)
  return hay and hay:lower():find(needle:lower(), 1, true) ~= nil
end

local function parse_date(text)
  local d, mon, y = tostring(text):match("^(%d+)%-(%a+)%-(%d+)$")
  if not d then return nil end
  local months = { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6, jul = 7, aug = 8,
                   sep = 9, oct = 10, nov = 11, dec = 12 }
  local m = months[mon:lower()]
  if not m then return nil end
  return os.time { year = tonumber(y), month = m, day = tonumber(d), hour = 0 }
end

-- Compiles search keys (from position i of list) into a predicate; returns it and the next i.
local function search_key(s, list, i)
  local v = list[i]
  if v == nil then return nil, i, "missing search key" end
  if type(v) == "table" and v.list then
    local preds = {}
    local j = 1
    while j <= #v do
      local p, nj, err = search_key(s, v, j)
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
    return function(_, m) return lower_find(field(split(m.text), name), needle) end, i + 2
  end
  if key == "HEADER" then
    local name, needle = arg(1), arg(2)
    if not needle then return nil, i, "HEADER needs a field name and a string" end
    return function(_, m)
      local value = field(split(m.text), name)
      return value ~= nil and (needle == "" or lower_find(value, needle))
    end, i + 3
  end
  if key == "BODY" or key == "TEXT" then
    local needle = arg(1)
    if not needle then return nil, i, key .. " needs a string" end
    return function(_, m)
      local head, body = split(m.text)
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
    local p, ni, err = search_key(s, list, i + 1)
    if not p then return nil, i, err end
    return function(n, m) return not p(n, m) end, ni
  end
  if key == "OR" then
    local a, ni, err = search_key(s, list, i + 1)
    if not a then return nil, i, err end
    local b, nj, err2 = search_key(s, list, ni)
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
  if s.server.opts.require_tls and not s:is_tls() then
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
  tagged(s, cmd, {}, "NO [AUTHENTICATIONFAILED] Authentication failed")
end

local function is_inbox(name)
  return name and name:upper() == "INBOX"
end

local function select(s, cmd, readonly)
  local name = str(cmd.args[1])
  s.view, s.readonly = nil, nil
  if not is_inbox(name) then
    return tagged(s, cmd, {}, "NO [NONEXISTENT] Unknown mailbox " .. shown(name or ""))
  end
  s.view, s.exists, s.readonly = {}, -1, readonly
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

local function pattern_matches(pattern, name)
  local p = "^" .. pattern:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", ".*"):gsub("%%%%", "[^/]*") .. "$"
  return name:upper():match(p:upper()) ~= nil
end

function commands.LIST(s, cmd)
  local ref, pattern = str(cmd.args[1]), str(cmd.args[2])
  if not ref or not pattern then return tagged(s, cmd, {}, "BAD " .. cmd.verb .. " reference pattern") end
  local out = {}
  if pattern == "" then
    out[1] = '* ' .. cmd.verb .. ' (\\Noselect) "/" ""'
  elseif pattern_matches(ref .. pattern, "INBOX") then
    out[1] = '* ' .. cmd.verb .. ' (\\HasNoChildren) "/" INBOX'
  end
  tagged(s, cmd, out, "OK " .. cmd.verb .. " completed")
end

commands.LSUB = commands.LIST

function commands.STATUS(s, cmd)
  local name, items = str(cmd.args[1]), cmd.args[2]
  if not is_inbox(name) then return tagged(s, cmd, {}, "NO [NONEXISTENT] Unknown mailbox") end
  if type(items) ~= "table" or not items.list then return tagged(s, cmd, {}, "BAD STATUS mailbox (items)") end
  local box, parts = s.box, {}
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
  tagged(s, cmd, { "* STATUS INBOX (" .. table.concat(parts, " ") .. ")" }, "OK STATUS completed")
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
  if not is_inbox(name) then return tagged(s, cmd, {}, "NO [TRYCREATE] Unknown mailbox") end
  local m = s.server.store:deliver(s.user, msg.str, { flags = flags })
  s:log(string.format("appended %d bytes as UID %d", m.size, m.uid))
  local out = {}
  sync(s, out)
  tagged(s, cmd, out, "OK [APPENDUID " .. s.box.uidvalidity .. " " .. m.uid .. "] APPEND completed")
end

function commands.IDLE(s, cmd)
  s:emit(cmd.key, "+ idling")
  local deadline = require("parley").clock() + s.server.idle
  while true do
    local out = {}
    sync(s, out)
    if #out > 0 then s:emit(cmd.key, out) end
    local ok, line, why = pcall(s.conn.read_line, s.conn, 0.5)
    if not ok then error(line, 0) end
    if line then
      if line:upper() == "DONE" then return tagged(s, cmd, {}, "OK IDLE terminated") end
      return tagged(s, cmd, {}, "BAD expected DONE")
    end
    if why ~= "timeout" then error(HANGUP, 0) end
    if require("parley").clock() > deadline then
      s:emit("idle", "* BYE autologout: idle for too long")
      error(HANGUP, 0)
    end
  end
end

for _, verb in ipairs { "CREATE", "DELETE", "RENAME" } do
  commands[verb] = function(s, cmd) tagged(s, cmd, {}, "NO only INBOX exists in the mock") end
end
for _, verb in ipairs { "SUBSCRIBE", "UNSUBSCRIBE" } do
  commands[verb] = function(s, cmd) tagged(s, cmd, {}, "OK " .. verb .. " completed") end
end
for _, verb in ipairs { "COPY", "MOVE" } do
  commands[verb] = function(s, cmd) tagged(s, cmd, {}, "NO [TRYCREATE] only INBOX exists in the mock") end
end

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
  local removed = s.server.store:remove(s.user, doomed)
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
  local rest = { table.unpack(cmd.args, 2) }
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
  if sub == "COPY" or sub == "MOVE" then return commands.COPY(s, cmd) end
  tagged(s, cmd, {}, "BAD unknown UID command " .. shown(sub))
end

local function redact(segs, verb)
  local line = segs[1]
  if verb == "LOGIN" then
    local head = line:match("^(%S+%s+%S+%s+%S+)")
    line = (head or line:match("^(%S+%s+%S+)") or "") .. " ****"
  elseif verb == "AUTHENTICATE" then
    local head, rest = line:match("^(%S+%s+%S+%s+%S+)%s+(%S+)")
    if rest then line = head .. " ****" end
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
      s:log(redact(segs, verb and verb:upper() or ""))
      if not tag or tag == "*" or tag == "+" then
        s:emit("error", "* BAD " .. (err or "no tag"))
      elseif not verb then
        s:emit("error", tag .. " BAD " .. (err or "no command"))
      else
        verb = verb:upper()
        local key = verb
        if verb == "UID" and atom(tree[3]) then key = "UID " .. atom(tree[3]):upper() end
        local cmd = { tag = tag, verb = verb, key = key, args = { table.unpack(tree, 3) },
                      line = segs[1], segs = segs }
        cmd.arg = segs[1]:match("^%S+%s+%S+%s+(.*)$") or ""
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
