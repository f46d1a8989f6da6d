--- Building and taking apart Internet messages (RFC 5322, MIME: RFC 2045-2047, RFC 2231).
--
--     local mime = require "parley.mime"
--     local text = mime.build{ from = "alice@example.net", to = "bob@example.net",
--                              subject = "report", body = "see attachment\n",
--                              attachments = { { name = "r.csv", type = "text/csv", data = csv } } }
--     local headers, body = mime.parse_headers(text)
--     print(headers.subject, headers["message-id"])
--
-- `build` writes CRLF line ends everywhere, fills in Date and Message-ID, encodes non-ASCII
-- header text as RFC 2047 encoded words, non-ASCII bodies as quoted-printable and attachments
-- as base64. Header values holding CR or LF are refused (header injection).
--
-- @module parley.mime

local parley = require "parley"
local crypto = require "parley.crypto"

local M = {}

local DAYS = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" }
local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }

local function misuse(msg)
  parley.raise(2, "script", "mime: " .. msg)
end

--- An RFC 5322 date for `t` (seconds since the epoch, default now), in UTC.
-- Independent of the C locale.
function M.date(t)
  local d = os.date("!*t", t or os.time())
  return string.format("%s, %02d %s %04d %02d:%02d:%02d +0000", DAYS[d.wday], d.day,
    MONTHS[d.month], d.year, d.hour, d.min, d.sec)
end

--- A fresh Message-ID, `<random@domain>`.
-- @param domain optional right-hand side (default: the domain of `from`, or parley.invalid)
function M.message_id(domain)
  return "<" .. crypto.hex(crypto.unique(12)) .. "." .. os.time() .. "@" ..
    (domain or "parley.invalid") .. ">"
end

local function is_ascii(s)
  return not s:find("[\128-\255]")
end

--- Encodes a header text as RFC 2047 encoded words when it is not plain ASCII.
-- @return the text unchanged when it is ASCII, else `=?UTF-8?B?...?=` words
function M.encode_words(s)
  if is_ascii(s) then return s end
  local words, i = {}, 1
  while i <= #s do
    -- 45 bytes -> 60 base64 characters: each word stays under 75 characters; do not split a
    -- UTF-8 sequence.
    local j = math.min(i + 44, #s)
    while j < #s and j > i and (s:byte(j + 1) or 0) >= 0x80 and (s:byte(j + 1) or 0) < 0xC0 do
      j = j - 1
    end
    words[#words + 1] = "=?UTF-8?B?" .. crypto.b64encode(s:sub(i, j)) .. "?="
    i = j + 1
  end
  return table.concat(words, " ")
end

local function decode_q(text)
  text = text:gsub("_", " ")
  return (text:gsub("=(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- Decodes RFC 2047 encoded words (`=?charset?B|Q?...?=`) in a header value.
-- The bytes are returned as they are (no charset conversion); whitespace between adjacent
-- encoded words is dropped as the RFC says.
function M.decode_words(s)
  s = s:gsub("(%?=)%s+(=%?)", "%1%2")
  return (s:gsub("=%?([^?]+)%?([BbQq])%?([^?]*)%?=", function(_, enc, text)
    if enc:upper() == "B" then return crypto.b64decode(text) or nil end
    return decode_q(text)
  end))
end

local function check_header(name, value)
  if type(name) ~= "string" or not name:match("^[!-9;-~]+$") then
    misuse("bad header name " .. string.format("%q", tostring(name)))
  end
  if value:find("[\r\n]") then
    misuse("the value of header " .. name .. " holds a CR or LF (it would inject headers)")
  end
end

-- Folds a header line longer than 78 characters at whitespace (RFC 5322 section 2.2.3).
local function fold(line)
  if #line <= 78 then return line end
  local out, cur = {}, ""
  for word, space in line:gmatch("(%S+)(%s*)") do
    if #cur > 0 and #cur + #word > 76 then
      out[#out + 1] = cur:gsub("%s+$", "")
      cur = " "
    end
    cur = cur .. word .. space
  end
  out[#out + 1] = cur:gsub("%s+$", "")
  return table.concat(out, "\r\n")
end

local function header(name, value)
  value = tostring(value)
  check_header(name, value)
  return fold(name .. ": " .. value)
end

-- "a@b", {"a@b", "c@d"} -> "a@b, c@d"
local function address_list(v)
  if type(v) == "table" then return table.concat(v, ", ") end
  return tostring(v)
end

local function domain_of(addr)
  local a = type(addr) == "table" and addr[1] or addr
  if type(a) ~= "string" then return nil end
  return a:match("@([%w%.%-]+)>?%s*$")
end

--- Line ends as CRLF: lone LF and CRLF become CRLF; a lone CR is left alone.
function M.crlf(text)
  return (text:gsub("\r?\n", "\r\n"))
end

--- Quoted-printable encoding (RFC 2045 section 6.7) of text with CRLF or LF line ends.
function M.qp_encode(text)
  local out = {}
  for line in (text:gsub("\r\n", "\n") .. "\n"):gmatch("([^\n]*)\n") do
    local enc = line:gsub("[^\t !-<>-~]", function(c) return string.format("=%02X", c:byte()) end)
    enc = enc:gsub("([ \t])$", function(c) return string.format("=%02X", c:byte()) end)
    local parts = {}
    while #enc > 76 do
      local cut = 75
      -- do not cut an =XX escape in two
      local eq = enc:sub(cut - 1, cut):find("=")
      if eq then cut = cut - 2 + eq - 1 end
      parts[#parts + 1] = enc:sub(1, cut) .. "="
      enc = enc:sub(cut + 1)
    end
    parts[#parts + 1] = enc
    out[#out + 1] = table.concat(parts, "\r\n")
  end
  if text:sub(-1) == "\n" then out[#out] = nil end
  return table.concat(out, "\r\n") .. (text:sub(-1) == "\n" and "\r\n" or "")
end

--- Base64 wrapped at 76 characters a line, each line ending in CRLF.
function M.b64_lines(data)
  local b = crypto.b64encode(data)
  local out = {}
  for i = 1, #b, 76 do out[#out + 1] = b:sub(i, i + 75) end
  return table.concat(out, "\r\n") .. "\r\n"
end

local function long_line(text)
  for line in text:gmatch("[^\n]+") do
    if #line > 998 then return true end
  end
  return false
end

-- The body of a text part and its Content-Type / Content-Transfer-Encoding headers.
local function text_part(body, ctype)
  body = tostring(body or "")
  if body:find("\r[^\n]") or body:find("\r$") then misuse("the body holds a bare CR") end
  local ascii = is_ascii(body)
  local h = { "Content-Type: " .. (ctype or ("text/plain; charset=" .. (ascii and "us-ascii" or "utf-8"))) }
  if ascii and not long_line(body) then
    h[#h + 1] = "Content-Transfer-Encoding: 7bit"
    body = M.crlf(body)
  else
    h[#h + 1] = "Content-Transfer-Encoding: quoted-printable"
    body = M.qp_encode(body)
  end
  if body ~= "" and body:sub(-2) ~= "\r\n" then body = body .. "\r\n" end
  return h, body
end

local function quote_param(v)
  return '"' .. v:gsub('[\\"]', "\\%0") .. '"'
end

-- filename="x" or, for non-ASCII names, the RFC 2231 form filename*=UTF-8''...
local function filename_param(name)
  if is_ascii(name) then return "filename=" .. quote_param(name) end
  return "filename*=UTF-8''" .. name:gsub("[^%w%.%-_]", function(c)
    return string.format("%%%02X", c:byte())
  end)
end

local function attachment(a)
  if type(a) ~= "table" or a.data == nil then misuse("an attachment needs data") end
  local name = a.name or "attachment.bin"
  if name:find("[\r\n]") then misuse("an attachment name holds a CR or LF") end
  local ctype = a.type or "application/octet-stream"
  if ctype:find("[\r\n]") then misuse("an attachment type holds a CR or LF") end
  local h = {
    "Content-Type: " .. ctype .. "; name=" .. (is_ascii(name) and quote_param(name) or quote_param(M.encode_words(name))),
    "Content-Transfer-Encoding: base64",
    "Content-Disposition: " .. (a.disposition or "attachment") .. "; " .. filename_param(name),
  }
  return table.concat(h, "\r\n") .. "\r\n\r\n" .. M.b64_lines(a.data)
end

local function multipart(msg)
  local boundary = "=_parley_" .. crypto.hex(crypto.unique(12))
  local th, tb = text_part(msg.body, msg.content_type)
  local parts = { table.concat(th, "\r\n") .. "\r\n\r\n" .. tb }
  for _, a in ipairs(msg.attachments) do parts[#parts + 1] = attachment(a) end
  -- Every part ends in CRLF, which serves as the CRLF that starts the next delimiter.
  local body = { "This is a multi-part message in MIME format.\r\n" }
  for _, p in ipairs(parts) do
    body[#body + 1] = "--" .. boundary .. "\r\n" .. p
  end
  body[#body + 1] = "--" .. boundary .. "--\r\n"
  local h = { 'Content-Type: multipart/mixed; boundary="' .. boundary .. '"' }
  return h, table.concat(body)
end

-- Extra headers: {Name = value} or an array of {name, value} (order kept).
local function extra_headers(list, out, seen)
  if not list then return end
  local pairs_list = {}
  if #list > 0 then
    for _, h in ipairs(list) do pairs_list[#pairs_list + 1] = { h[1] or h.name, h[2] or h.value } end
  else
    local names = {}
    for k in pairs(list) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do pairs_list[#pairs_list + 1] = { k, list[k] } end
  end
  for _, h in ipairs(pairs_list) do
    seen[tostring(h[1]):lower()] = true
    out[#out + 1] = header(h[1], M.encode_words(tostring(h[2])))
  end
end

--- Builds a message: RFC 5322 text with CRLF line ends.
-- @param msg table: `from`, `to` (string or array), `cc`, `reply_to`, `subject`, `body`,
--   `headers` (`{Name=value}` or `{{name, value}, ...}`), `attachments`
--   (`{{name=, type=, data=}, ...}`), `date` (string, or a number of seconds since the epoch),
--   `message_id`, `content_type` (of the text body, default text/plain)
-- @return the message text
function M.build(msg)
  if type(msg) ~= "table" then misuse("build needs a table") end
  local h, seen = {}, {}
  local function add(name, value)
    if value == nil or value == false then return end
    seen[name:lower()] = true
    h[#h + 1] = header(name, value)
  end
  local date = msg.date
  if type(date) == "number" then date = M.date(date) end
  add("Date", date or M.date())
  add("From", msg.from and address_list(msg.from))
  add("To", msg.to and address_list(msg.to))
  add("Cc", msg.cc and address_list(msg.cc))
  add("Reply-To", msg.reply_to and address_list(msg.reply_to))
  add("Subject", msg.subject and M.encode_words(tostring(msg.subject)))
  add("Message-ID", msg.message_id or M.message_id(domain_of(msg.from)))
  extra_headers(msg.headers, h, seen)
  local ch, body
  if msg.attachments and #msg.attachments > 0 then
    ch, body = multipart(msg)
  else
    ch, body = text_part(msg.body, msg.content_type)
  end
  if not seen["mime-version"] then h[#h + 1] = "MIME-Version: 1.0" end
  for _, line in ipairs(ch) do
    local name = line:match("^([^:]+)")
    if not seen[name:lower()] then h[#h + 1] = line end
  end
  return table.concat(h, "\r\n") .. "\r\n\r\n" .. body
end

--- Splits a message into its headers and body.
-- Header names are lower-cased, folded values unfolded (CRLF + whitespace becomes the
-- whitespace); a name that appears more than once maps to an array of its values in order.
-- @param text the message (CRLF or LF line ends)
-- @return headers table, body (the text after the empty line, or "" when there is none), and
--   an array of `{name=, value=}` in the order they appear
function M.parse_headers(text)
  text = tostring(text or "")
  local head, body = text:match("^(.-)\r?\n\r?\n(.*)$")
  if not head then head, body = text, "" end
  if head:match("^\r?\n") then head = "" end
  head = head:gsub("\r?\n([ \t])", "%1")
  local headers, list = {}, {}
  for line in (head .. "\n"):gmatch("([^\n]*)\n") do
    line = line:gsub("\r$", "")
    local name, value = line:match("^([^:%s]+)%s*:%s*(.-)%s*$")
    if name then
      name = name:lower()
      list[#list + 1] = { name = name, value = value }
      local old = headers[name]
      if old == nil then
        headers[name] = value
      elseif type(old) == "table" then
        old[#old + 1] = value
      else
        headers[name] = { old, value }
      end
    end
  end
  return headers, body, list
end

--- The first value of a header from `parse_headers`' table (arrays give their first entry).
function M.first(headers, name)
  local v = headers[name:lower()]
  if type(v) == "table" then return v[1] end
  return v
end

return M
