--- Reading the commands of the mock IMAP server: a command's lines and literals (with the
-- literal budget of issue 12: a few KB before login, `max_literal` after; at most 32 literals),
-- then its tokens and their nesting. Linear scans only: a hostile line costs the server its
-- length. Part of parley.mock.imap.
-- @module parley.mock.imap.command

local base = require "parley.mock.server"

local M = {}

local HANGUP = base.HANGUP

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

M.read_command = read_command
M.tokenize = tokenize
M.nest = nest
M.tail = tail
M.str = str
M.atom = atom
M.MAX_DEPTH = MAX_DEPTH

return M
