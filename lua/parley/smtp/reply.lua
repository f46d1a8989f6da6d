--- Reading SMTP replies, apart from the session: the capabilities an EHLO reply lists, and the
-- queue id in the reply to the end of a message as each common server words it. Pure
-- functions of the reply text (`smtp.queue_id` is this module's).
-- @module parley.smtp.reply

local M = {}

local find = string.find

--- The capabilities listed by an EHLO (or LHLO) reply.
-- @param lines the reply's lines (the first, the server's name, is skipped)
-- @return the caps table (upper-case names -> true, their argument, a number for SIZE, a set
--   for AUTH) and the list of lines
function M.parse_caps(lines)
  local caps, list = {}, {}
  for i = 2, #lines do
    local line = lines[i]
    -- One match gives the name and its argument without surrounding blanks.
    local key, rest = line:match("^%s*([%w][%w%-]*)[%s=]?%s*(.-)%s*$")
    if key then
      key = key:upper()
      list[#list + 1] = line
      if key == "AUTH" then
        local set = type(caps.AUTH) == "table" and caps.AUTH or {}
        for mech in rest:gmatch("%S+") do set[mech:upper()] = true end
        caps.AUTH = set
      elseif key == "SIZE" then
        caps.SIZE = tonumber(rest:match("^%d+") or "") or true
      elseif caps[key] == nil then
        caps[key] = rest ~= "" and rest or true
      end
    end
  end
  return caps, list
end

-- The words of a reply line (a linear scan), without a leading enhanced status code.
local function words_of(line)
  local words = {}
  for w in line:gmatch("%S+") do words[#words + 1] = w end
  if words[1] and words[1]:match("^%d%.%d%d?%d?%.%d%d?%d?$") then table.remove(words, 1) end
  return words
end

-- An id-like word: letters, digits and . - _ only, with at least one digit.
local function id_like(w)
  return w ~= nil and #w >= 4 and #w <= 80 and not w:find("[^%w%.%-_]") and w:find("%d") ~= nil
end

-- The queue id in a reply text (see queue_id).
local function find_id(text)
  local line = text:sub(1, 4096)
  line = line:sub(1, (line:find("\n", 1, true) or (#line + 1)) - 1)
  -- Every wording below holds "ok." or one of q (queued, qp), p (gsmtp, accepted), = (id=)
  -- and <: a reply with none of them (smtp-sink's "2.0.0 Ok", which a load test gets
  -- thousands of times a second) names no id.
  local l = line:lower()
  if not (find(l, "[qp=<]") or find(l, "ok.", 1, true)) then return nil end
  local words = words_of(line)
  for i, w in ipairs(words) do
    local lw = w:lower()
    if lw == "as" and words[i - 1] and words[i - 1]:lower() == "queued" and words[i + 1] then
      return (words[i + 1]:gsub("[%)%],;]+$", ""))                      -- Postfix, many others
    end
    local exim = lw:match("^id=([%w%-%.]+)")
    if exim then return w:sub(4, 3 + #exim) end                          -- Exim
    if lw == "qp" and words[i + 1] and words[i + 1]:match("^%d+$") then   -- qmail
      return words[i + 1]
    end
    if lw == "gsmtp" and words[i - 1] == "-" and id_like(words[i - 2]) then
      return words[i - 2]                                                 -- Gmail
    end
    if lw == "message" and words[i + 1] and words[i + 1]:lower() == "accepted" and i > 1 and
       id_like(words[i - 1]) then
      return words[i - 1]                                                 -- OpenSMTPD, Sendmail
    end
    if lw == "queued" and words[i - 1] and words[i - 1]:lower() == "message" and words[i + 1] then
      local h = words[i + 1]:match("^%(([%w%.%-_]+)%)$")                  -- Haraka
      if h then return h end
    end
  end
  local angle = line:match("^[^<]*<([^<>%s]+)>")                            -- Exchange, M365
  if angle and words[1] and (line:find("InternalId=", 1, true) or line:find("Hostname=", 1, true) or
      words[1]:upper() == "OK" or line:find("Queued mail for delivery", 1, true)) then
    return angle
  end
  if words[1] and words[1]:lower() == "ok." and words[2] and words[2]:match("^%x+%.%x+%.%x+$") then
    return words[2]                                                       -- Courier
  end
  return nil
end

-- Reply texts that name no id, remembered: a load test against one server gets the same
-- reply to every message (smtp-sink's "2.0.0 Ok"), and scanning it costs ~7 K instructions,
-- a lookup ~50. Short texts only, and bounded: emptied when it holds too many.
local no_id, no_id_count = {}, 0

--- The queue id in the reply to the end of a message, as each common server words it:
-- Postfix "queued as 4F1xyz", Exim "id=1tAbCd-000123-Xy", OpenSMTPD and Sendmail
-- "78b784e0 Message accepted for delivery", qmail "ok 1700000000 qp 12345" (the qp number),
-- Exchange and Microsoft 365 "<MESSAGE-ID> [InternalId=...]" (the message id), Gmail
-- "OK 1700000000 a1si123.45 - gsmtp", Haraka "Message Queued (ID)", Courier "Ok. A.B.C".
-- @param text the reply text (with or without the enhanced code), or a reply
-- @return the id, or nil
function M.queue_id(text)
  -- A text known to name no id comes back without a call of type() (no_id holds strings only).
  if no_id[text] then return nil end
  if type(text) == "table" then
    text = text.text
    if no_id[text] then return nil end
  end
  if type(text) ~= "string" then return nil end
  local id = find_id(text)
  if id == nil and #text <= 256 then
    if no_id_count >= 256 then no_id, no_id_count = {}, 0 end
    no_id[text], no_id_count = true, no_id_count + 1
  end
  return id
end

return M
