--- The volatile words of a reply (times, dates, queue ids, message ids, ...), left out when
-- `--exact` compares a reply's text with the transcript's. Part of parley.transcript, which
-- re-exports `volatile` and `normalize`.
-- @module parley.transcript.volatile

local M = {}

local MONTHS = { JAN = 1, FEB = 1, MAR = 1, APR = 1, MAY = 1, JUN = 1, JUL = 1, AUG = 1, SEP = 1,
                 OCT = 1, NOV = 1, DEC = 1, MON = 1, TUE = 1, WED = 1, THU = 1, FRI = 1, SAT = 1,
                 SUN = 1 }

--- Whether one word of a reply is volatile, i.e. differs from one session to the next:
-- a time (`12:27:28`), a date word (a weekday or month name, a year, a zone like `+0100`
-- or `(BST)`), an IP address, a number with a fraction (`0.001`, durations), an
-- identifier mixing letters and digits of 6 characters or more (queue ids such as
-- `4Fz3Xk1Zx7`, session ids, hex stamps), a run of 10 digits or more, or a message id (an `@` word whose left part holds
-- 4 digits or more); addresses are compared.
function M.volatile(word)
  local w = word:gsub("^[%(%[<\"']+", ""):gsub("[%)%]>\"',;:.]+$", "")
  if w == "" then return false end
  if w:find("^%d+:%d%d") then return true end
  if MONTHS[w:sub(1, 3):upper()] and #w <= 9 and w:find("^%a+$") then return true end
  if w:find("^%d%d%d%d$") and tonumber(w) >= 1970 and tonumber(w) <= 2100 then return true end
  if w:find("^[%+%-]%d%d%d%d$") or w:find("^%u%u%u?%u?$") and word:find("^%(") then return true end
  if w:find("^%d+%.%d+%.%d+%.%d+$") then return true end
  if w:find("^%d+%.%d+$") and not w:find("^%d%.%d$") then return true end
  local at = w:find("@", 1, true)
  if at then
    -- an address is compared; a message id (<20261202005911.006686@host>) is not
    local _, digits = w:sub(1, at - 1):gsub("%d", "")
    return digits >= 4
  end
  if #w >= 6 and w:find("%d") and w:find("%a") and not w:find("[^%w%-_.=+/]") then
    return true
  end
  -- ten digits or more: a queue id that happens to hold no letter (Postfix's hex ids do, now
  -- and then), a Unix time; sizes and counts in replies are shorter
  return #w >= 10 and w:find("^%d+$") ~= nil
end

--- A reply's text with its volatile words replaced by `*` (see `volatile`, and the day of
-- the month before a month name); with `host`,
-- the first word (the host name a greeting or EHLO reply starts with) too.
function M.normalize(text, host)
  local words = {}
  for word in text:gmatch("%S+") do words[#words + 1] = word end
  local out = {}
  for i, word in ipairs(words) do
    local nxt = words[i + 1]
    -- the day of a date: "9 Jun"
    local day = word:find("^%d%d?$") and nxt and MONTHS[nxt:sub(1, 3):upper()]
    if (host and i == 1) or day or M.volatile(word) then
      out[i] = "*"
    else
      out[i] = word
    end
  end
  return table.concat(out, " ")
end

return M
