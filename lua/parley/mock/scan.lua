--- Reading what a mock server's clients send, in linear time: trimming, the verb of a command
-- line, its words, and control characters shown as "?" for logs. Part of the mock servers
-- (`parley.mock.server` re-exports these).
-- @module parley.mock.scan

local M = {}

--- Control characters shown as "?" (for echoing what a client sent).
function M.shown(v)
  return (tostring(v):gsub("%c", "?"))
end

local function is_space(b)
  return b == 32 or (b >= 9 and b <= 13)
end

--- `s` without the white space at its ends (linear in its length).
function M.trim(s)
  local i = s:find("%S")
  if not i then return "" end
  local j = #s
  while j > i and is_space(s:byte(j)) do j = j - 1 end
  return s:sub(i, j)
end

--- The verb of a command line and the rest, trimmed: "MAIL FROM:<a>  " -> "MAIL", "FROM:<a>".
-- A line that starts with white space has no verb ("").
function M.verb_arg(line)
  local _, ve = line:find("^%S+")
  if not ve then return "", M.trim(line) end
  return line:sub(1, ve), M.trim(line:sub(ve + 1))
end

--- The words of `s` (split at white space), at most `max` (default 64) of them; the second
-- result is true when there were more.
function M.words(s, max)
  max = max or 64
  local out, pos = {}, 1
  while true do
    local a, b = s:find("%S+", pos)
    if not a then return out, false end
    if #out >= max then return out, true end
    out[#out + 1] = s:sub(a, b)
    pos = b + 1
  end
end

--- From `least` to `most` words (white space apart) as values, or nil when there are fewer
-- or more: split_words("PLAIN abc=", 1, 2) -> "PLAIN", "abc=".
function M.split_words(s, least, most)
  local w, more = M.words(s, most)
  if more or #w < least then return nil end
  return table.unpack(w, 1, most)
end

return M
