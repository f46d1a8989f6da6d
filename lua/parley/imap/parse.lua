--- Parsing IMAP responses (RFC 3501 / RFC 9051): atoms, numbers, quoted strings, literals,
-- lists and NIL, response codes, and the untagged data the session keeps (CAPABILITY,
-- EXISTS, FETCH items, ENVELOPE, STATUS, LIST, SEARCH, ...). Pure: strings in, tables out,
-- apart from the session's I/O (`imap.parse_response` and friends are these). Linear in
-- the size of the response.
-- @module parley.imap.parse

local parley = require "parley"
local utf7 = require "parley.imap.utf7"

local M = {}

local function protocol_error(msg)
  parley.raise(1, "protocol", msg)
end

--- The NIL of IMAP responses in parsed trees (`imap.NIL`); prints as "NIL".
M.NIL = setmetatable({}, { __tostring = function() return "NIL" end, __name = "imap.NIL" })
local NIL = M.NIL


local Parser = {}
Parser.__index = Parser

local function parser(s)
  return setmetatable({ s = s, pos = 1 }, Parser)
end

function Parser:fail(what)
  error({ imap_parse = true, message = what .. " at byte " .. self.pos }, 0)
end

function Parser:skip_sp()
  local _, e = self.s:find("^ +", self.pos)
  if e then self.pos = e + 1 end
end

function Parser:at_end()
  return self.pos > #self.s
end

function Parser:peek()
  return self.s:sub(self.pos, self.pos)
end

function Parser:quoted()
  local s, i, buf = self.s, self.pos + 1, {}
  while true do
    local j = s:find('["\\]', i)
    if not j then self:fail("unterminated quoted string") end
    buf[#buf + 1] = s:sub(i, j - 1)
    if s:sub(j, j) == '"' then
      self.pos = j + 1
      return table.concat(buf)
    end
    buf[#buf + 1] = s:sub(j + 1, j + 1)
    i = j + 2
  end
end

-- The big literals of the response being parsed, when the source holds a token in their place
-- (see joined): nil otherwise.
local held

function Parser:literal()
  local _, e, n = self.s:find("^~?{(%d+)%+?}\r\n", self.pos)
  if not e then self:fail("malformed literal") end
  n = tonumber(n)
  if held then
    local _, te, i = self.s:find("^\0(%d+)\0", e + 1)
    local lit = i and held[tonumber(i)]
    if not lit or #lit ~= n then self:fail("malformed literal") end
    self.pos = te + 1
    return lit
  end
  if e + n > #self.s then self:fail("literal longer than the response") end
  self.pos = e + n + 1
  return self.s:sub(e + 1, e + n)
end

-- Skips a bracketed section ("[HEADER.FIELDS (A B)]") starting at i; returns the index after.
function Parser:section(i)
  local s = self.s
  local depth = 0
  while true do
    local j = s:find('[%[%]"\r\n]', i)
    if not j then break end
    local c = s:sub(j, j)
    if c == "[" then
      depth = depth + 1
    elseif c == "]" then
      depth = depth - 1
      if depth == 0 then return j + 1 end
    elseif c == '"' then
      local p = parser(s)
      p.pos = j
      p:quoted()
      j = p.pos - 1
    else
      i = j
      break
    end
    i = j + 1
  end
  self.pos = i
  self:fail("unterminated [ section")
end

function Parser:atom()
  local s, i = self.s, self.pos
  local start = i
  while true do
    local j = s:find('[ \r\n()"%[%]]', i)
    if not j then
      i = #s + 1
      break
    end
    if s:sub(j, j) ~= "[" then
      i = j
      break
    end
    i = self:section(j)
  end
  if i == start then self:fail("unexpected " .. string.format("%q", s:sub(i, i))) end
  self.pos = i
  local a = s:sub(start, i - 1)
  if a:upper() == "NIL" then return NIL end
  if #a <= 18 and a:match("^%d+$") then return math.tointeger(tonumber(a)) end
  return a
end

function Parser:list()
  self.pos = self.pos + 1
  local t = {}
  while true do
    self:skip_sp()
    if self:at_end() then self:fail("unterminated list") end
    if self:peek() == ")" then
      self.pos = self.pos + 1
      return t
    end
    t[#t + 1] = self:value()
  end
end

function Parser:value()
  local c = self:peek()
  if c == "(" then return self:list() end
  if c == '"' then return self:quoted() end
  if c == "{" or (c == "~" and self.s:sub(self.pos + 1, self.pos + 1) == "{") then return self:literal() end
  return self:atom()
end

function Parser:all()
  local t = {}
  while true do
    self:skip_sp()
    if self:at_end() then return t end
    t[#t + 1] = self:value()
  end
end

-- From this size on, a literal is not copied into the text the parser reads (a 50 MB
-- FETCH would be copied five times over by the matches and substrings below).
local BIG = 64 * 1024

-- The wire form of a unit: its lines with the literals put back after their markers. When a
-- literal is big, every literal is left where it is and a token ("\0" index "\0") stands in
-- its place: the second result is then the literals, for Parser:literal.
local function joined(unit)
  if type(unit) == "string" then return (unit:gsub("\r?\n$", "")) end
  local lines, lits = unit.lines or { unit.text }, unit.literals or {}
  if #lines <= 1 then return lines[1] or unit.text or "" end
  local big = false
  for i = 1, #lines - 1 do
    if #(lits[i] or "") >= BIG then big = true end
  end
  local parts = {}
  for i, line in ipairs(lines) do
    parts[#parts + 1] = line
    if i < #lines then
      parts[#parts + 1] = big and ("\r\n\0" .. i .. "\0") or ("\r\n" .. (lits[i] or ""))
    end
  end
  return table.concat(parts), big and lits or nil
end

--- Parses a string of IMAP values (atoms, numbers, quoted strings, literals, lists, NIL).
-- @return an array of values (lists are arrays, NIL is `imap.NIL`), or nil and a message
function M.parse_values(text)
  local ok, res = pcall(function() return parser(text):all() end)
  if ok then return res end
  return nil, type(res) == "table" and res.message or tostring(res)
end

local function upper_key(v)
  return type(v) == "string" and v:upper() or tostring(v)
end

local function nstring(v)
  if v == NIL then return nil end
  return v
end

local function address_list(v)
  if type(v) ~= "table" or v == NIL then return nil end
  local out = {}
  for _, a in ipairs(v) do
    if type(a) == "table" then
      local addr = { name = nstring(a[1]), adl = nstring(a[2]), mailbox = nstring(a[3]), host = nstring(a[4]) }
      if addr.mailbox and addr.host then
        addr.address = tostring(addr.mailbox) .. "@" .. tostring(addr.host)
      end
      out[#out + 1] = addr
    end
  end
  return out
end

--- Turns the parsed ENVELOPE list into a table: `date`, `subject`, `from`, `sender`,
-- `reply_to`, `to`, `cc`, `bcc` (arrays of `{name=, mailbox=, host=, address=}`),
-- `in_reply_to`, `message_id`, and `raw` (the list as parsed).
function M.parse_envelope(list)
  if type(list) ~= "table" or list == NIL then return nil end
  return {
    date = nstring(list[1]), subject = nstring(list[2]), from = address_list(list[3]),
    sender = address_list(list[4]), reply_to = address_list(list[5]), to = address_list(list[6]),
    cc = address_list(list[7]), bcc = address_list(list[8]), in_reply_to = nstring(list[9]),
    message_id = nstring(list[10]), raw = list,
  }
end

--- The strings of a parsed list (NIL or a non-list: an empty array).
function M.strings(list)
  local out = {}
  for i, v in ipairs((type(list) == "table" and list ~= NIL) and list or {}) do out[i] = tostring(v) end
  return out
end

local strings = M.strings

-- FETCH items list -> table of items (keys upper-case).
local function fetch_items(list)
  local items = {}
  for i = 1, #list - 1, 2 do
    local key, v = upper_key(list[i]), list[i + 1]
    if key == "FLAGS" then
      v = strings(v)
    elseif key == "ENVELOPE" then
      v = M.parse_envelope(v)
    elseif key == "MODSEQ" and type(v) == "table" then
      v = v[1]
    elseif key == "UID" or key == "RFC822.SIZE" then
      v = math.tointeger(tonumber(v)) or v
    end
    if v ~= NIL then items[key] = v end
  end
  return items
end

-- "[NAME args]" -> name, parsed args (with shapes for the well-known codes).
local function response_code(text)
  local p = parser(text)
  if p:peek() ~= "[" then return nil, nil, text end
  local close = p:section(1)
  local inner = text:sub(2, close - 2)
  local name, rest = inner:match("^(%S+)%s*(.*)$")
  local args = M.parse_values(rest or "") or { rest }
  return name and name:upper(), args, (text:sub(close):gsub("^%s+", ""))
end

local function capability_set(list)
  local caps, names = {}, {}
  for _, v in ipairs(list) do
    local name = tostring(v)
    names[#names + 1] = name
    local up = name:upper()
    local mech = up:match("^AUTH=(.+)$")
    if mech then
      caps.AUTH = caps.AUTH or {}
      caps.AUTH[mech] = true
    end
    caps[up] = true
  end
  return caps, names
end

local STATUS_WORDS = { OK = true, NO = true, BAD = true, PREAUTH = true, BYE = true }

local function parse_status(r, word, rest)
  r.status = word
  local code, args, text = response_code(rest)
  r.code, r.code_args, r.message = code, args, text
  if code == "CAPABILITY" then r.caps, r.caps_list = capability_set(args) end
  if code == "APPENDUID" then r.appenduid = { uidvalidity = args[1], uid = args[2] } end
  if code == "COPYUID" then r.copyuid = { uidvalidity = args[1], source = tostring(args[2]), dest = tostring(args[3]) } end
end

local function parse_numbered(r, n, rest)
  r.number = math.tointeger(n)
  if not r.number then error({ imap_parse = true, message = "message number out of range" }, 0) end
  local word, tail = rest:match("^(%S+)%s*(.*)$")
  r.type = (word or ""):upper()
  if r.type == "FETCH" then
    local values = parser(tail):all()
    r.items = fetch_items(type(values[1]) == "table" and values[1] or {})
  end
end

local function parse_mailbox_data(r, word, rest)
  if word == "CAPABILITY" then
    r.caps, r.caps_list = capability_set(parser(rest):all())
  elseif word == "FLAGS" then
    r.flags = strings(parser(rest):all()[1])
  elseif word == "LIST" or word == "LSUB" then
    local v = parser(rest):all()
    r.flags, r.delimiter = strings(v[1]), nstring(v[2])
    r.raw_name = tostring(v[3])
    r.name = utf7.decode(r.raw_name)
  elseif word == "STATUS" then
    local v = parser(rest):all()
    r.mailbox = utf7.decode(tostring(v[1]))
    r.items = {}
    local list = type(v[2]) == "table" and v[2] or {}
    for i = 1, #list - 1, 2 do r.items[upper_key(list[i])] = list[i + 1] end
  elseif word == "SEARCH" or word == "SORT" then
    r.numbers = {}
    for _, v in ipairs(parser(rest):all()) do
      if math.type(v) == "integer" then r.numbers[#r.numbers + 1] = v end
    end
  else
    r.values = M.parse_values(rest)
  end
end

local function parse_untagged(r, rest)
  local first, tail = rest:match("^(%S+)%s*(.*)$")
  first = first or ""
  if first:match("^%d+$") then return parse_numbered(r, tonumber(first), tail) end
  local word = first:upper()
  r.type = word
  if STATUS_WORDS[word] then return parse_status(r, word, tail) end
  parse_mailbox_data(r, word, tail)
end

--- Parses one response (a unit from the imap framing, or a string). A unit with a literal of
-- 64 KB or more is parsed without copying it, and the result's raw is read from the unit when
-- first asked for.
-- @return a table: `tag` ("*", "+" or the tag), `text` (the first line), `raw`; tagged and
--   status responses: `status` (OK, NO, BAD, PREAUTH, BYE), `code` ("UIDVALIDITY"...),
--   `code_args`, `message` (the text after the code); untagged: `type` (EXISTS, FETCH, LIST,
--   ...), `number`, `items` (FETCH), `flags`, `name`, `delimiter`, `numbers` (SEARCH),
--   `caps`, `values` (anything else, parsed); continuations: `continuation` (the text)
-- @raise exit 1 ("protocol") when the response does not parse
function M.parse_response(unit)
  local src, big = joined(unit)
  local tag, rest = src:match("^(%S+) ?(.*)$")
  local r = { tag = tag or "", text = type(unit) == "table" and unit.text or src }
  if big then
    -- raw would be the whole response again: it is read from the unit when first asked for
    -- (r.raw, pairs(r)), as on the unit itself.
    -- (unless the script has set one: then pairs keeps it, as on the unit)
    local function materialize(t)
      setmetatable(t, nil)
      if rawget(t, "raw") == nil then t.raw = unit.raw end
    end
    setmetatable(r, {
      __index = function(t, k)
        if k ~= "raw" then return nil end
        materialize(t)
        return t.raw
      end,
      __pairs = function(t)
        materialize(t)
        return next, t, nil
      end,
    })
  else
    r.raw = type(unit) == "table" and unit.raw or src
  end
  if tag == "+" then
    r.continuation = rest
    return r
  end
  held = big
  local ok, err = pcall(function()
    if tag == "*" then
      parse_untagged(r, rest or "")
    else
      local word, tail = (rest or ""):match("^(%S+)%s*(.*)$")
      r.type = "TAGGED"
      parse_status(r, (word or ""):upper(), tail or "")
    end
  end)
  held = nil
  if not ok then
    local why = type(err) == "table" and err.message or tostring(err)
    protocol_error("cannot parse the IMAP response \"" .. (r.text or ""):sub(1, 200) .. "\": " .. why)
  end
  return r
end

return M
