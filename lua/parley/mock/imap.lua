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
local crypto = require "parley.crypto"

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
-- Reading commands: lines and literals, then tokens

-- The literal announced at the end of a line, "{123}" or "{123+}": its digits, "+" or "",
-- and where the "{" is. A scan back from the end (no pattern that could backtrack).
local function literal_spec(line)
  local i = #line
  if line:byte(i) ~= 125 then return nil end -- "}"
  i = i - 1
  local plus = ""
  if line:byte(i) == 43 then plus, i = "+", i - 1 end
  local j = i
  while j > 0 do
    local b = line:byte(j)
    if b < 48 or b > 57 then break end
    j = j - 1
  end
  if j == i or j < 1 or line:byte(j) ~= 123 then return nil end -- "{"
  return line:sub(j + 1, i), plus, j
end

local MAX_LITERALS = 32 -- literals in one command

-- The bytes a command may carry in literals: a few KB before login (a user name and a
-- password), `max_literal` after.
local function literal_budget(s)
  local opts = s.server.opts
  if not s.user then return opts.max_login_literal or 8 * 1024 end
  return opts.max_literal or 50 * 1024 * 1024
end

-- Reads one command: a list of segments, line, literal, line, literal, ..., line, and in
-- `segs.cut` where each line's literal announcement starts. Returns nil when the command was
-- refused (answered already).
local function read_command(s)
  local line = s:read_line()
  local segs = { line, cut = {} }
  local budget = literal_budget(s)
  local total = 0
  while true do
    local digits, plus, at = literal_spec(line)
    if not digits then break end
    segs.cut[#segs] = at
    local n = #digits <= 12 and tonumber(digits) or math.huge
    local tag = base.words(segs[1], 1)[1] or "*"
    local why
    if total + n > budget then
      why = s.user and "literal too large" or "literal too large before login"
    elseif #segs >= 2 * MAX_LITERALS then
      why = "too many literals in one command"
    end
    if why then
      s:log(string.format("literal of %s bytes refused: %s", #digits <= 15 and digits or "too many",
        why))
      if plus == "" then
        s:emit("error", tag .. " BAD " .. why)
        return nil
      end
      s:emit("error", "* BYE " .. why)
      error(HANGUP, 0)
    end
    total = total + n
    if plus == "" then s:emit("continuation", "+ Ready for literal data") end
    local parts = {}
    s:read_pieces(n, parts)
    segs[#segs + 1] = table.concat(parts)
    line = s:read_line()
    segs[#segs + 1] = line
  end
  return segs
end

-- Appends the tokens of one line to `toks`: atoms (strings), quoted strings ({ str = ... }),
-- "(" and ")". Linear: each byte is looked at once.
local function tokenize_line(line, toks)
  local pos, len = 1, #line
  while pos <= len do
    local b = line:byte(pos)
    if b == 32 then
      pos = line:find("[^ ]", pos) or len + 1
    elseif b == 40 or b == 41 then
      toks[#toks + 1] = b == 40 and "(" or ")"
      pos = pos + 1
    elseif b == 34 then
      local out, j = {}, pos + 1
      while true do
        local k = line:find('["\\]', j)
        if not k then return nil, "unterminated quoted string" end
        out[#out + 1] = line:sub(j, k - 1)
        if line:byte(k) == 92 then
          out[#out + 1] = line:sub(k + 1, k + 1)
          j = k + 2
        else
          j = k + 1
          break
        end
      end
      toks[#toks + 1] = { str = table.concat(out) }
      pos = j
    else
      -- an atom; a [section] inside is kept whole: BODY[HEADER.FIELDS (A B)]<0.10>
      local j, depth = pos, 0
      while true do
        local k = line:find(depth > 0 and "[%[%]]" or "[ ()%[%]]", j)
        if not k then
          j = len + 1
          break
        end
        local c = line:byte(k)
        if c == 91 then
          depth = depth + 1
        elseif c == 93 then
          if depth > 0 then depth = depth - 1 end
        else
          j = k
          break
        end
        j = k + 1
      end
      toks[#toks + 1] = line:sub(pos, j - 1)
      pos = j
    end
  end
  return toks
end

-- Tokens of a whole command (lines and literals).
local function tokenize(segs)
  local toks = {}
  for i = 1, #segs, 2 do
    local line = segs[i]
    local cut = segs.cut and segs.cut[i]
    if cut then line = line:sub(1, cut - 1) end
    local ok, err = tokenize_line(line, toks)
    if not ok then return nil, err end
    if segs[i + 1] then toks[#toks + 1] = { str = segs[i + 1] } end
  end
  return toks
end

local MAX_DEPTH = 32 -- parentheses inside one another, and SEARCH keys inside one another

-- Nests the tokens: lists become tables with list = true.
local function nest(toks)
  local root = { list = true }
  local stack = { root }
  for _, t in ipairs(toks) do
    local top = stack[#stack]
    if t == "(" then
      if #stack > MAX_DEPTH then return nil, "lists nested too deep" end
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

-- list[from..] as a new list (table.unpack would put every item on the stack).
local function tail(list, from)
  local out = {}
  for i = from, #list do out[#out + 1] = list[i] end
  return out
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
-- The mailbox view of a session

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

---------------------------------------------------------------------------------------------
-- SEARCH

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
