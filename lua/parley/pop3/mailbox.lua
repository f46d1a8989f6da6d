--- The maildrop commands of the POP3 session: STAT, LIST, UIDL, RETR, TOP and DELE. parley.pop3
-- installs these methods on its sessions; scripts call them there (`p:stat()`, `p:retr(1)`).
-- @module parley.pop3.mailbox

local parley = require "parley"
local check = require "parley.pop3.check"

local M = {}

--- The methods this module adds to POP3 sessions.
local Session = {}
M.methods = Session

local misuse, run, number, ok_numbers = check.misuse, check.run, check.number, check.ok_numbers

--- STAT: the number of messages and their total size in octets.
-- @return count, size, and the reply
function Session:stat(opts)
  local r = run(self, "STAT", opts)
  local count, size = ok_numbers(r)
  if r.status == "+OK" and not count then
    parley.raise(1, "protocol", "STAT: the reply \"" .. r.text .. "\" does not hold a count and a size")
  end
  return count, size, r
end

-- "n value" lines -> map and ordered array of numbers.
local function scan_listing(lines, convert)
  local map, order = {}, {}
  for _, line in ipairs(lines or {}) do
    local n, v = line:match("^%s*(%d+)%s+(%S+)")
    if n then
      n = tonumber(n)
      map[n] = convert and convert(v) or v
      order[#order + 1] = n
    end
  end
  return map, order
end

--- LIST: message sizes.
-- @param n optional message number
-- @return with n: the size and the reply; without: a table number -> size, an array of the
--   message numbers in order, and the reply
function Session:list(n, opts)
  if type(n) == "table" then n, opts = nil, n end
  if n then
    local r = run(self, "LIST " .. number(n, "LIST"), opts)
    local _, size = ok_numbers(r)
    return size, r
  end
  local r = run(self, "LIST", opts, true)
  local map, order = scan_listing(r.lines, tonumber)
  return map, order, r
end

--- UIDL: unique ids.
-- @param n optional message number
-- @return with n: the id and the reply; without: a table number -> id, the array of numbers,
--   and the reply
function Session:uidl(n, opts)
  if type(n) == "table" then n, opts = nil, n end
  if n then
    local r = run(self, "UIDL " .. number(n, "UIDL"), opts)
    return (r.text or ""):match("^%+OK%s+%d+%s+(%S+)"), r
  end
  local r = run(self, "UIDL", opts, true)
  local map, order = scan_listing(r.lines)
  return map, order, r
end

local function block_text(r)
  if r.status ~= "+OK" then return nil end
  local lines = r.lines or {}
  if #lines == 0 then return "" end
  return table.concat(lines, "\r\n") .. "\r\n"
end

--- RETR: a whole message.
-- @return the message text (dot-unstuffed, CRLF line ends), and the reply
function Session:retr(n, opts)
  local r = run(self, "RETR " .. number(n, "RETR"), opts, true)
  return block_text(r), r
end

--- TOP: the header and the first `lines` lines of the body.
-- @return the text and the reply
function Session:top(n, lines, opts)
  local count = math.tointeger(tonumber(lines or 0))
  if not count or count < 0 then misuse("TOP: a line count from 0 up is needed") end
  local r = run(self, "TOP " .. number(n, "TOP") .. " " .. count, opts, true)
  return block_text(r), r
end

--- DELE: marks a message deleted.
function Session:dele(n, opts)
  return run(self, "DELE " .. number(n, "DELE"), opts)
end

return M
