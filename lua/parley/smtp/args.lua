--- Encoding SMTP command arguments and message text, apart from the session: addresses and
-- parameters that could smuggle a second command are refused (exit 2), the MAIL and RCPT lines
-- with their ESMTP parameters, xtext, the message with CRLF line ends, dot-stuffing
-- (`smtp.xtext` and `smtp.dot_stuff` are this module's).
-- @module parley.smtp.args

local parley = require "parley"
-- Loaded on first use: a script that builds no message from a table never loads it.
local mime = setmetatable({}, { __index = function(_, k) return require("parley.mime")[k] end })

local M = {}

local function misuse(msg)
  parley.raise(2, "script", msg)
end

-- A value quoted for a message, control characters shown as \r, \n, \xHH.
local function shown(v)
  return '"' .. tostring(v):gsub("[%c\"\\]", function(c)
    if c == "\r" then return "\\r" elseif c == "\n" then return "\\n" end
    if c == '"' or c == "\\" then return "\\" .. c end
    return string.format("\\x%02x", c:byte())
  end) .. '"'
end

-- An address as it goes between the angle brackets; "<x>" is taken as x.
local function address(addr, what)
  if type(addr) ~= "string" then misuse(what .. ": the address must be a string, not " .. type(addr)) end
  -- The usual address has no brackets and nothing to refuse: one scan.
  if not addr:find("[%c<>]") then return addr end
  local inner = addr:match("^<(.*)>$") or addr
  if inner:find("[%c<>]") then
    misuse(what .. ": the address " .. shown(addr) .. " holds a CR, LF, other " ..
      "control character, < or > (it could smuggle another command); refused")
  end
  return inner
end

-- A parameter value must be esmtp-value: visible ASCII without "=" (RFC 5321 section 4.1.2).
local function param_value(name, v, what)
  v = tostring(v)
  if v == "" or v:find("[^!-<>-~]") then
    misuse(what .. ": the " .. name .. " value " .. shown(v) ..
      " holds a space, '=', a control or non-ASCII character; refused")
  end
  return v
end

--- xtext encoding (RFC 3461 section 4): "+", "=" and bytes outside 33-126 as +XX.
function M.xtext(s)
  return (s:gsub("[^!-*,-<>-~]", function(c) return string.format("+%02X", c:byte()) end))
end

-- Extra parameters: {NAME = value | true} or an array of "NAME=value" strings.
local function extra_params(list, out, what)
  if not list then return end
  for k, v in pairs(list) do
    local name, value
    if type(k) == "number" then
      name, value = tostring(v):match("^([^=]*)=?(.*)$")
      if value == "" then value = nil end
    else
      name, value = k, (v ~= true) and v or nil
    end
    if not name:match("^[%w][%w%-]*$") then misuse(what .. ": bad parameter name " .. shown(name)) end
    out[#out + 1] = value and (name:upper() .. "=" .. param_value(name, value, what)) or name:upper()
  end
end

local function is_ascii(s)
  return not s:find("[\128-\255]")
end

---------------------------------------------------------------------------------------------
-- Message text

-- The message as it goes on the wire: CRLF line ends, a final CRLF; a bare CR is refused.
-- (parley.wire_text scans with memchr in C: a Lua loop per line cost a load test's messages
-- dozens of calls each, and a pattern tried at every byte half of its CPU.)
local function bare_cr(what, at)
  misuse(what .. ": the message holds a bare CR at byte " .. at ..
    " (SMTP forbids it; write line ends as LF or CRLF)")
end
local function normalise(text, what)
  local wire, bad = parley.wire_text(text)
  if not wire then bare_cr(what, bad) end
  return wire
end

--- Dot-stuffing (RFC 5321 section 4.5.2): a "." starting a line gets another ".".
-- @param text with CRLF line ends
function M.dot_stuff(text)
  if text:byte(1) ~= 46 and not text:find("\n.", 1, true) then return text end
  return (("\r\n" .. text):gsub("\r\n%.", "\r\n.."):sub(3))
end

-- A message given as a table is built with parley.mime, the envelope filling From and To.
local function built(s, msg, what)
  if type(msg) == "table" and getmetatable(msg) == nil then
    local t = {}
    for k, v in pairs(msg) do t[k] = v end
    if t.from == nil and s.envelope.from and s.envelope.from ~= "" then t.from = s.envelope.from end
    if t.to == nil and #s.envelope.rcpts > 0 then t.to = s.envelope.rcpts end
    return mime.build(t)
  end
  misuse(what .. ": the message must be a string or a table for parley.mime.build")
end

-- The message as text with CRLF line ends (see normalise); a table is built first.
local function message_text(s, msg, what)
  if type(msg) ~= "string" then msg = built(s, msg, what) end
  return normalise(msg, what)
end

-- The bytes that follow DATA: the message as message_text gives it, dot-stuffed, and the final
-- ".\r\n". (parley.wire_message does it in one pass in C: normalising, dot-stuffing and adding
-- the dot went over a load test's messages three times, with a call and a copy each.)
local wire_message = parley.wire_message
local function message_wire(s, msg, what)
  if type(msg) ~= "string" then msg = built(s, msg, what) end
  local wire, bad = wire_message(msg)
  if not wire then bare_cr(what, bad) end
  return wire
end

---------------------------------------------------------------------------------------------
-- The MAIL and RCPT lines

-- The lines of plain addresses (nothing to refuse, no brackets, ASCII) sent without
-- parameters, by address: a load test sends the same few addresses thousands of times a
-- second, and a lookup costs less than checking and joining them again. Bounded: emptied when
-- it holds too many.
local plain_mail, plain_rcpt, plain_count = {}, {}, 0
local function remember(memo, addr, line)
  if plain_count >= 1024 then
    plain_mail, plain_rcpt, plain_count = {}, {}, 0
    return
  end
  memo[addr], plain_count = line, plain_count + 1
end

local function mail_line(_, from, opts)
  local plain = opts == nil or (opts.size == nil and opts.body == nil and opts.smtputf8 == nil and
    opts.ret == nil and opts.envid == nil and opts.auth == nil and opts.requiretls == nil and
    opts.params == nil)
  if plain then
    local line = plain_mail[from]
    if line then return line, from end
  end
  opts = opts or {}
  local what = "MAIL"
  local addr = address(from or "", what)
  local params = {}
  if opts.size then params[#params + 1] = "SIZE=" .. param_value("SIZE", math.tointeger(opts.size) or opts.size, what) end
  if opts.body then params[#params + 1] = "BODY=" .. param_value("BODY", tostring(opts.body):upper(), what) end
  if opts.smtputf8 or (opts.smtputf8 == nil and not is_ascii(addr)) then params[#params + 1] = "SMTPUTF8" end
  if opts.ret then params[#params + 1] = "RET=" .. param_value("RET", tostring(opts.ret):upper(), what) end
  if opts.envid then params[#params + 1] = "ENVID=" .. M.xtext(tostring(opts.envid)) end
  if opts.auth then params[#params + 1] = "AUTH=" .. M.xtext(address(opts.auth, what)) end
  if opts.requiretls then params[#params + 1] = "REQUIRETLS" end
  extra_params(opts.params, params, what)
  local line = "MAIL FROM:<" .. addr .. ">"
  if #params > 0 then
    line = line .. " " .. table.concat(params, " ")
  elseif plain and addr == from then
    remember(plain_mail, addr, line)
  end
  return line, addr
end

local function rcpt_line(to, opts)
  local plain = opts == nil or (opts.notify == nil and opts.orcpt == nil and opts.params == nil)
  if plain then
    local line = plain_rcpt[to]
    if line then return line, to end
  end
  opts = opts or {}
  local what = "RCPT"
  local addr = address(to, what)
  local params = {}
  local notify = opts.notify
  if type(notify) == "table" then notify = table.concat(notify, ",") end
  if notify then params[#params + 1] = "NOTIFY=" .. param_value("NOTIFY", notify:upper(), what) end
  local orcpt = opts.orcpt
  if orcpt == true then orcpt = addr end
  if orcpt then
    local kind, value = tostring(orcpt):match("^([%w%-]+);(.*)$")
    if not kind then kind, value = "rfc822", tostring(orcpt) end
    if value:find("[\r\n]") then misuse("RCPT: the ORCPT value holds a CR or LF") end
    params[#params + 1] = "ORCPT=" .. kind .. ";" .. M.xtext(value)
  end
  extra_params(opts.params, params, what)
  local line = "RCPT TO:<" .. addr .. ">"
  if #params > 0 then
    line = line .. " " .. table.concat(params, " ")
  elseif plain and addr == to then
    remember(plain_rcpt, addr, line)
  end
  return line, addr
end

local function argument(v, what)
  v = tostring(v)
  if v:find("%c") then misuse(what .. ": the argument holds a control character (CR, LF...); refused") end
  return v
end

M.misuse = misuse
M.shown = shown
M.address = address
M.param_value = param_value
M.extra_params = extra_params
M.is_ascii = is_ascii
M.normalise = normalise
M.message_text = message_text
M.message_wire = message_wire
M.mail_line = mail_line
M.rcpt_line = rcpt_line
M.argument = argument

return M
