--- The exchange of the IMAP session: commands sent with automatic tags (literals synchronised
-- or not, as the server's LITERAL+ / LITERAL- allow), responses read and parsed until the
-- tagged one, untagged data absorbed into the session, and the tagged status checked against
-- `expect=` with the message every protocol gives (parley.session). Part of parley.imap.
-- @module parley.imap.check

local parley = require "parley"
local session = require "parley.session"
local parse = require "parley.imap.parse"
local encode = require "parley.imap.encode"

local M = {}

local strings = parse.strings

local function misuse(msg)
  parley.raise(2, "script", msg)
end

local function protocol_error(msg)
  parley.raise(1, "protocol", msg)
end

---------------------------------------------------------------------------------------------
-- Reading responses

local function read(s, what, timeout)
  return parse.parse_response(session.read(s, what, timeout, "a response"))
end

-- What untagged data tells about the session.
local function absorb(s, r)
  local box = s.mailbox
  if r.caps then s.caps, s.caps_list = r.caps, r.caps_list end
  if r.status == "BYE" then s.bye = r end
  if not box then return end
  if r.type == "EXISTS" then box.exists = r.number
  elseif r.type == "RECENT" then box.recent = r.number
  elseif r.type == "EXPUNGE" and box.exists then box.exists = box.exists - 1
  elseif r.type == "FLAGS" then box.flags = r.flags
  elseif r.code and r.tag == "*" then
    local key, v = r.code:lower(), r.code_args and r.code_args[1]
    if key == "permanentflags" then box.permanentflags = strings(v)
    elseif key == "uidvalidity" or key == "uidnext" or key == "unseen" or key == "highestmodseq" then
      box[key] = v
    end
  end
end

local function tagged_matcher(spec)
  if spec == nil or spec == true or spec == "OK" or spec == "ok" then
    return function(r) return r.status == "OK" end, "OK"
  elseif spec == false then
    return function(r) return r.status == "NO" or r.status == "BAD" end, "NO or BAD"
  elseif spec == "NO" or spec == "BAD" or spec == "no" or spec == "bad" then
    local want = spec:upper()
    return function(r) return r.status == want end, want
  elseif type(spec) == "function" then
    return spec, "a result the script's test accepts"
  elseif type(spec) == "string" then
    local ok, err = pcall(string.find, "", spec)
    if not ok then misuse("imap: bad pattern " .. string.format("%q", spec) .. ": " .. tostring(err)) end
    return function(r) return (r.text or ""):find(spec) ~= nil end, "pattern " .. string.format("%q", spec)
  elseif type(spec) == "table" then
    local ms, ds = {}, {}
    for i, x in ipairs(spec) do ms[i], ds[i] = tagged_matcher(x) end
    return function(r)
      for _, m in ipairs(ms) do if m(r) then return true end end
      return false
    end, table.concat(ds, " or ")
  end
  misuse("imap: cannot expect a " .. type(spec))
end

local function check_tagged(s, what, spec, r)
  local m, desc = tagged_matcher(spec)
  if m(r) then return r end
  session.refuse(s, what, desc, r)
end

-- Reads until the tagged response for `tag`. `on_plus(r)` answers continuations.
local function collect(s, tag, what, timeout, untagged, on_plus)
  while true do
    local r = read(s, what, timeout)
    if r.tag == "+" then
      if not on_plus then protocol_error(what .. ": unexpected continuation request \"" .. r.text .. "\"") end
      if on_plus(r) == "stop" then return nil end
    elseif r.tag == "*" then
      absorb(s, r)
      untagged[#untagged + 1] = r
    elseif r.tag == tag then
      if r.caps then s.caps, s.caps_list = r.caps, r.caps_list end
      r.untagged = untagged
      return r
    else
      protocol_error(what .. ": a tagged response for an unknown tag: \"" .. r.text .. "\"")
    end
  end
end

---------------------------------------------------------------------------------------------
-- Sending commands

local function next_tag(s)
  s.tag_count = s.tag_count + 1
  return string.format("%s%04d", s.tag_prefix, s.tag_count)
end

local function nonsync_ok(s, n)
  local caps = s.caps or {}
  return caps["LITERAL+"] or (caps["LITERAL-"] and n <= 4096)
end

-- Sends the pieces; a synchronising literal waits for "+". Returns a tagged response when the
-- server answered before the command was complete (a refused literal).
local function send_pieces(s, tag, pieces, what, timeout, untagged)
  local line = tag .. " "
  for _, p in ipairs(pieces) do
    if p.literal then
      local n = #p.literal
      local sync = not nonsync_ok(s, n)
      s.conn:send(line .. "{" .. n .. (sync and "" or "+") .. "}")
      line = ""
      if sync then
        local r = collect(s, tag, what, timeout, untagged, function() return "stop" end)
        if r then return r end
      end
      s.conn:send_raw(p.literal)
    else
      line = line .. p.text
    end
  end
  s.conn:send(line)
  return nil
end

-- Runs a command: returns the tagged result (checked) and the untagged responses.
local function run(s, cmd, opts, on_plus)
  opts = opts or {}
  local pieces = encode.pieces_of(cmd)
  local what = opts.what or encode.describe(pieces)
  local tag = next_tag(s)
  local untagged = {}
  local early = send_pieces(s, tag, pieces, what, opts.timeout, untagged)
  local r = early or collect(s, tag, what, opts.timeout, untagged, on_plus)
  r.untagged = untagged
  check_tagged(s, what, opts.expect, r)
  return r, untagged
end

--- Reads one response for `what`, parsed (a timeout or the end of the connection fails).
M.read = read
--- Updates the session with what untagged data tells (caps, BYE, the mailbox's counts).
M.absorb = absorb
--- A matcher and its description for an `expect=` of a tagged status.
M.tagged_matcher = tagged_matcher
--- Fails unless the tagged result `r` matches `spec`.
M.check_tagged = check_tagged
--- Reads until the tagged response for a tag.
M.collect = collect
--- The next tag of the session ("A0001", ...).
M.next_tag = next_tag
--- Runs a command: the tagged result (checked) and the untagged responses.
M.run = run

return M
