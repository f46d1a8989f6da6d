--- The encoder of IMAP command arguments, apart from the IMAP session: strings become atoms,
-- quoted strings or literals as their content needs, so that a password or a mailbox name can
-- never end the command line early or start another one (`imap.encode`, `imap.atom`,
-- `imap.raw`, `imap.quoted` and `imap.literal` are these).
-- @module parley.imap.encode

local parley = require "parley"
local parse = require "parley.imap.parse"

local M = {}

local NIL = parse.NIL

local function misuse(msg)
  parley.raise(2, "script", msg)
end

local Part = {}
Part.__index = Part

local function part(kind, value)
  return setmetatable({ kind = kind, value = value }, Part)
end

--- Refuses a CR, LF or NUL in `v` (it would end the command line): a script error (exit 2).
-- @return v
function M.no_ctl(v, what)
  if tostring(v):find("[%z\r\n]") then
    misuse("imap: " .. what .. " " .. string.format("%q", parley.mask(tostring(v)):sub(1, 60)) ..
      " holds a CR, LF or NUL (it would end the command line); refused")
  end
  return v
end

--- Marks a string to be sent as it is (an atom, a sequence set "1:*", a flag "\\Seen", fetch
-- items "BODY.PEEK[]"). CR, LF, NUL and spaces are refused.
function M.atom(s)
  s = tostring(s)
  if s == "" or s:find("[%s%z%c]") then
    misuse("imap.atom: " .. string.format("%q", s) .. " is not an atom (empty, or holds a space or control character)")
  end
  return part("raw", s)
end

--- Marks text to be sent as it is, spaces included (CR, LF and NUL refused).
function M.raw(s)
  return part("raw", M.no_ctl(tostring(s), "raw text"))
end

--- Marks a string to be sent as a quoted string (a literal when it cannot be quoted).
function M.quoted(s)
  return part("string", s)
end

--- Marks a string to be sent as a literal ({n} and the bytes).
function M.literal(s)
  return part("literal", s)
end

local function quote(s)
  return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

-- How a string goes: "atom", "quoted" or "literal".
local function string_form(s, allow_atom)
  if s:find("[%z\r\n\128-\255]") or #s > 1000 then return "literal" end
  if allow_atom and s ~= "" and s:upper() ~= "NIL" and s:match("^[%w!#$&'+,%-%./:;<=>?@%^_`|~]+$") then
    return "atom"
  end
  return "quoted"
end

local encode_string

-- Encodes one argument into pieces: {text=} or {literal=}.
local function encode(v, out, allow_atom)
  local mt = getmetatable(v)
  if mt == Part then
    if v.kind == "raw" then
      out[#out + 1] = { text = v.value }
      return
    end
    local form = v.kind == "literal" and "literal" or string_form(tostring(v.value), false)
    return encode_string(v.value, form, out)
  end
  if v == NIL then
    out[#out + 1] = { text = "NIL" }
  elseif type(v) == "number" then
    out[#out + 1] = { text = tostring(math.tointeger(v) or v) }
  elseif type(v) == "string" then
    encode_string(v, string_form(v, allow_atom and not parley.is_secret(v)), out)
  elseif type(v) == "table" and mt == nil then
    out[#out + 1] = { text = "(" }
    for i, x in ipairs(v) do
      if i > 1 then out[#out + 1] = { text = " " } end
      encode(x, out, allow_atom)
    end
    out[#out + 1] = { text = ")" }
  else
    misuse("imap: cannot send a " .. type(v) .. " as a command argument")
  end
end

encode_string = function(v, form, out)
  if form == "literal" then
    out[#out + 1] = { literal = v }
  elseif form == "atom" then
    out[#out + 1] = { text = v }
  else
    v = tostring(v)
    local q = quote(v)
    -- The quoted form of a secret holding " or \ differs from it: registered too.
    if #q ~= #v + 2 and parley.is_secret(v) then parley.derived(q:sub(2, -2)) end
    out[#out + 1] = { text = q }
  end
end

--- Encodes command arguments as IMAP text.
-- Strings become atoms, quoted strings or literals as their content needs (a secret is never
-- an atom); numbers are numbers; tables are parenthesised lists; `imap.atom`, `imap.raw`,
-- `imap.quoted` and `imap.literal` force a form.
-- @param args array of arguments
-- @return an array of pieces `{text=}` / `{literal=}`
function M.encode(args)
  local out = {}
  for i, v in ipairs(args) do
    if i > 1 then out[#out + 1] = { text = " " } end
    encode(v, out, true)
  end
  return out
end

--- A command's text for messages (secrets masked, literals summarised).
function M.describe(pieces)
  local out = {}
  for _, p in ipairs(pieces) do
    out[#out + 1] = p.literal and ("{" .. #p.literal .. "}") or parley.mask(tostring(p.text))
  end
  local text = table.concat(out)
  if #text > 100 then text = text:sub(1, 97) .. "..." end
  return text
end

--- The pieces of a command: a string as it is (CR, LF, NUL refused), or a table whose first
-- element is the command name and the rest arguments encoded as `encode` does.
function M.pieces_of(cmd)
  if type(cmd) == "string" then
    M.no_ctl(cmd, "the command")
    return { { text = cmd } }
  end
  if type(cmd) ~= "table" then misuse("imap: a command is a string or a table of parts") end
  local verb = cmd[1]
  if type(verb) == "string" then
    M.no_ctl(verb, "the command name")
    local rest = table.move(cmd, 2, #cmd, 1, {})
    local pieces = { { text = verb } }
    if #rest > 0 then
      pieces[2] = { text = " " }
      for _, p in ipairs(M.encode(rest)) do pieces[#pieces + 1] = p end
    end
    return pieces
  end
  return M.encode(cmd)
end

return M
