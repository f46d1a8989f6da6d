--- Reading transcripts: a session pasted from a telnet guide, a parley transcript or a swaks
-- one becomes a conversation plan (lines to send, replies to check, the TLS upgrade, the AUTH
-- exchange). One pass over the lines with anchored patterns: linear in the input. Part of
-- parley.transcript, which re-exports `detect` and `parse`.
-- @module parley.transcript.parse

local crypto = require "parley.crypto"

local M = {}

---------------------------------------------------------------------------------------------
-- Reading the lines

-- Lines a telnet session prints around the conversation itself.
local NOISE = { "^Trying ", "^Connected to ", "^Escape character is ", "^Connection closed",
                "^%<TLS negotiation" }

local function is_noise(text)
  for _, p in ipairs(NOISE) do
    if text:find(p) then return true end
  end
  return false
end

-- host and port from `telnet HOST PORT`, `openssl s_client ... -connect HOST:PORT`, or swaks's
-- and parley's `=== Trying HOST:PORT...` / `=== connected to HOST:PORT`.
local function connect_info(text)
  local host, port = text:match("^%$?%s*telnet%s+(%S+)%s+(%d+)%s*$")
  if host then return { host = host, port = tonumber(port) } end
  if text:find("^%$?%s*openssl%s+s_client%s") then
    local h, p = text:match("%-connect%s+([^%s:]+):(%d+)")
    if h then
      return { host = h, port = tonumber(p), tls = not text:find("%-starttls") }
    end
  end
  host, port = text:match("^[Tt]rying (%S-):(%d+)%.%.%.$")
  if host then return { host = host, port = tonumber(port) } end
  host, port = text:match("^connected to (%S-):(%d+)$")
  if host then return { host = host, port = tonumber(port) } end
  return nil
end

-- One line: who speaks and what, or nil. Returns kind ("c", "s", "event", "skip"), the text,
-- whether it was under TLS (`~`), the connection number ([n]) and the notation seen.
local function classify(line)
  local s = line
  -- parley -v: "   0.004 " before everything
  local after = s:match("^%s*%d+%.%d%d%d ()")
  if after then s = s:sub(after) end
  local conn = 1
  local n, rest = s:match("^%[(%d+)%] ()")
  if n then conn, s = tonumber(n), s:sub(rest) end
  local body = s:match("^%s*(.*)$")
  local first2 = body:sub(1, 2)
  if first2 == "<-" or first2 == "<~" then
    if body:sub(3, 4) == "  " then return "s", body:sub(5), first2 == "<~", conn, "swaks" end
    return "s", body:sub(4), first2 == "<~", conn, "parley"
  elseif first2 == "->" or first2 == "~>" then
    return "c", body:sub(4), first2 == "~>", conn, "parley"
  elseif body:sub(1, 4) == "=== " then
    return "event", body:sub(5), false, conn, "parley"
  elseif body:sub(1, 4) == "*** " then
    return "skip", body, false, conn, "swaks"
  end
  local c1 = body:sub(1, 1)
  if c1 == ">" then
    return "c", body:sub(2):gsub("^ ", "", 1), false, conn, "telnet"
  elseif c1 == "<" and body:sub(2, 2) ~= "T" then
    return "s", body:sub(2):gsub("^ ", "", 1), false, conn, "telnet"
  end
  local who, text = body:match("^([CcSs]):(.*)$")
  if who then return who:lower(), text:gsub("^ ", "", 1), false, conn, "rfc" end
  return nil, body, false, conn, nil
end

--- Whether a text looks like a transcript: its first meaningful line is in one of the
-- notations (and so cannot be Lua).
-- @return the notation ("telnet", "rfc", "parley", "swaks") or nil
function M.detect(text)
  local count = 0
  for line in text:gmatch("[^\n]*") do
    count = count + 1
    if count > 200 then return nil end
    line = line:gsub("\r$", "")
    if line:find("%S") and not line:find("^%s*#") then
      local kind, body, _, _, notation = classify(line)
      if kind == "c" or kind == "s" or kind == "event" then return notation end
      if not (connect_info(body) or is_noise(body)) then return nil end
    end
  end
  return nil
end

---------------------------------------------------------------------------------------------
-- From lines to a plan

local MULTILINE_POP3 = { LIST = true, UIDL = true, RETR = true, TOP = true, CAPA = true }
local IMAP_COMMANDS = {}
for w in ([[CAPABILITY NOOP LOGOUT STARTTLS AUTHENTICATE LOGIN SELECT EXAMINE CREATE DELETE
  RENAME SUBSCRIBE UNSUBSCRIBE LIST LSUB STATUS APPEND CHECK CLOSE EXPUNGE SEARCH FETCH STORE
  COPY MOVE UID IDLE ENABLE ID NAMESPACE UNSELECT GETQUOTA GETQUOTAROOT]]):gmatch("%u+") do
  IMAP_COMMANDS[w] = true
end
local CHALLENGE_MECHS = { ["CRAM-MD5"] = true, ["DIGEST-MD5"] = true }

local function guess_proto(first_server, port)
  if first_server then
    if first_server:find("^%d%d%d") then return "smtp" end
    if first_server:find("^%+OK") or first_server:find("^%-ERR") then return "pop3" end
    if first_server:find("^%* ") then return "imap" end
  end
  local byport = { [25] = "smtp", [465] = "smtp", [587] = "smtp", [2525] = "smtp", [24] = "smtp",
                   [110] = "pop3", [995] = "pop3", [143] = "imap", [993] = "imap" }
  return port and byport[port] or "line"
end

-- Credentials left out of a transcript: parley's `****`, or swaks's --auth-hide-password
-- (a base64 argument that decodes to "PROVIDED_BUT_REMOVED").
local function masked(text)
  if text:find("%*%*%*%*", 1) then return true end
  local last = text:match("(%S+)%s*$")
  if last and #last >= 24 and last:find("^[%w%+/]+=*$") then
    local decoded = crypto.b64decode(last)
    return decoded ~= nil and decoded:find("PROVIDED_BUT_REMOVED", 1, true) ~= nil
  end
  return false
end

local function upper_word(text)
  return (text:match("^(%S+)") or ""):upper()
end

-- The builder keeps what a protocol needs to know while walking the lines.
local Builder = {}
Builder.__index = Builder

local function new_builder(proto, opts)
  return setmetatable({ proto = proto, steps = {}, pending = {}, opts = opts,
    tags = {}, tag_count = 0, data_mode = false, cont_open = false, literal_left = 0,
    server_literal = 0, auth = nil }, Builder)
end

function Builder:add(step)
  self.steps[#self.steps + 1] = step
  return step
end

function Builder:error(lineno, msg)
  error({ transcript_error = true, line = lineno, message = msg }, 0)
end

--------------------------------------------------------------------------------------------
-- Client lines

function Builder:client(text, lineno)
  local p = self.proto
  if p == "smtp" then return self:smtp_client(text, lineno) end
  if p == "pop3" then return self:pop3_client(text, lineno) end
  if p == "imap" then return self:imap_client(text, lineno) end
  self.pending[#self.pending + 1] = { verb = upper_word(text), line = lineno }
  self:add { op = "send", text = text, line = lineno }
end

-- An AUTH exchange: the command and every client line until its final reply.
function Builder:start_auth(mech, text, lineno, extra)
  self.auth = { op = "auth", proto = self.proto, mech = mech:upper(), line = lineno,
    command = text, responses = {}, masked = masked(text), ir = extra.ir, tag = extra.tag }
  self:add(self.auth)
end

function Builder:auth_response(text, lineno)
  local a = self.auth
  a.responses[#a.responses + 1] = { text = text, line = lineno }
  if masked(text) then a.masked = true end
end

function Builder:smtp_client(text, lineno)
  if self.data_mode then
    self:add { op = "send", text = text, line = lineno, data = true }
    if text == "." then
      self.data_mode = false
      self.pending[#self.pending + 1] = { verb = "DATA_END", line = lineno, text = text }
    end
    return
  end
  if self.auth and self.auth.open then return self:auth_response(text, lineno) end
  local verb = upper_word(text)
  self.pending[#self.pending + 1] = { verb = verb, line = lineno, text = text }
  if verb == "AUTH" and self:auth_command(text, lineno) then return end
  self:add { op = "send", text = text, line = lineno }
end

-- An SMTP or POP3 `AUTH MECH [initial-response]` line opens an AUTH exchange; returns
-- whether it did (a bare `AUTH` is sent as a plain line).
function Builder:auth_command(text, lineno)
  local mech, ir = text:match("^%S+%s+(%S+)%s*(%S*)")
  if not mech then return false end
  self:start_auth(mech, text, lineno, { ir = ir ~= "" and ir or nil })
  self.auth.open = true
  return true
end

function Builder:pop3_client(text, lineno)
  if self.auth and self.auth.open then return self:auth_response(text, lineno) end
  local verb = upper_word(text)
  self.pending[#self.pending + 1] = { verb = verb, line = lineno, text = text }
  if verb == "AUTH" and self:auth_command(text, lineno) then return end
  local cred
  if verb == "USER" or verb == "PASS" then cred = verb:lower() end
  self:add { op = "send", text = text, line = lineno, cred = cred }
end

function Builder:imap_client(text, lineno)
  if self.literal_left > 0 then
    self.literal_left = self.literal_left - (#text + 2)
    self:add { op = "send", text = text, line = lineno, data = true }
    return
  end
  if self.cont_open then
    self.cont_open = false
    if self.auth and self.auth.open then return self:auth_response(text, lineno) end
    self:add { op = "send", text = text, line = lineno, data = true }
    return
  end
  -- A command: its tag (added when the line has none) is renumbered.
  local first, rest = text:match("^(%S+)%s*(.*)$")
  if not first then
    return self:add { op = "send", text = text, line = lineno, data = true }
  end
  local tag, cmd = first, rest
  local second = rest:match("^(%S+)")
  if IMAP_COMMANDS[first:upper()] and not (second and IMAP_COMMANDS[second:upper()]) then
    tag, cmd = nil, text
  end
  self.tag_count = self.tag_count + 1
  local new = "t" .. self.tag_count
  if tag then self.tags[tag] = new end
  local verb = upper_word(cmd)
  self.pending[#self.pending + 1] = { verb = verb, line = lineno, tag = new, text = text,
    untagged = tag == nil }
  local size = cmd:match("{(%d+)%+?}$")
  if size then self.literal_left = tonumber(size) end
  if verb == "AUTHENTICATE" then
    local mech, ir = cmd:match("^%S+%s+(%S+)%s*(%S*)")
    self:start_auth(mech or "PLAIN", cmd, lineno, { ir = ir ~= "" and ir or nil, tag = new })
    self.auth.open = true
    return
  end
  if verb == "LOGIN" then
    local user, pass = cmd:match("^%S+%s+(%S+)%s+(.+)$")
    return self:add { op = "login", tag = new, user = user, password = pass, line = lineno,
      masked = pass ~= nil and masked(pass), text = new .. " " .. cmd }
  end
  self:add { op = "send", text = new .. " " .. cmd, line = lineno }
end

--------------------------------------------------------------------------------------------
-- Server lines, grouped into replies

-- The command a reply answers (the oldest one waiting), or nil.
function Builder:answered()
  return table.remove(self.pending, 1)
end

function Builder:after_reply(cmd, ok, lineno)
  if not cmd then return end
  if cmd.verb == "STARTTLS" or cmd.verb == "STLS" then
    if ok then self:add { op = "starttls", line = lineno } end
  elseif cmd.verb == "DATA" and self.proto == "smtp" and ok then
    self.data_mode = true
  end
end

function Builder:expect(step)
  if self.auth and self.auth.open and not step.continuation then
    self.auth.final = step
    self.auth.open = false
    return
  end
  if self.auth and self.auth.open and step.continuation then
    local a = self.auth
    a.challenges = a.challenges or {}
    a.challenges[#a.challenges + 1] = step
    return
  end
  self:add(step)
end

-- SMTP: "ddd-" lines continue a reply, "ddd " or "ddd" end it.
function Builder:smtp_server(lines)
  local i = 1
  while i <= #lines do
    local start = lines[i]
    local group = {}
    local code
    while i <= #lines do
      local l = lines[i]
      group[#group + 1] = l
      i = i + 1
      local c, sep = l.text:match("^(%d%d%d)(.?)")
      code = c and tonumber(c) or nil
      if sep ~= "-" then break end
    end
    local front = self.pending[1]
    local continuation = code == 334 and self.auth and self.auth.open
    local cmd = not continuation and self:answered() or nil
    self:expect { op = "expect", code = code, lines = group, line = start.line, cmd = cmd,
      continuation = continuation, front = front }
    self:after_reply(cmd, code ~= nil and code < 400 and code >= 200, start.line)
  end
end

function Builder:pop3_server(lines)
  local i = 1
  while i <= #lines do
    local l = lines[i]
    i = i + 1
    local status = l.text:match("^([%+%-]%u*)")
    if status ~= "+OK" and status ~= "-ERR" and (status == "+" or l.text == "+") then
      status = "+"
    end
    if status == "+" and self.auth and self.auth.open then
      self:expect { op = "expect", status = "+", lines = { l }, line = l.line, continuation = true }
    elseif status == "+OK" or status == "-ERR" then
      local group = { l }
      local cmd = self:answered()
      local block = false
      if status == "+OK" and i <= #lines and not lines[i].text:find("^[%+%-]") then
        block = true
      elseif status == "+OK" and cmd and MULTILINE_POP3[cmd.verb] and i <= #lines
          and lines[i].text == "." then
        block = true
      end
      if block then
        while i <= #lines do
          group[#group + 1] = lines[i]
          i = i + 1
          if group[#group].text == "." then break end
        end
      end
      self:expect { op = "expect", status = status, lines = group, line = l.line, cmd = cmd,
        block = block }
      self:after_reply(cmd, status == "+OK", l.line)
    else
      self:error(l.line, "a POP3 server line that is neither a status (+OK, -ERR) nor inside " ..
        "a multi-line answer: " .. l.text)
    end
  end
end

function Builder:imap_server(lines)
  -- Untagged data and literal lines go with the next reply (`pre`): replay sends them.
  local pre = self.imap_pre or {}
  self.imap_pre = pre
  local function take()
    local p = pre
    pre = {}
    self.imap_pre = pre
    return p
  end
  for _, l in ipairs(lines) do
    local text = l.text
    if self.server_literal > 0 then
      self.server_literal = self.server_literal - (#text + 2)
      pre[#pre + 1] = l
      goto continue
    end
    do
      local size = text:match("{(%d+)}$")
      local first = text:match("^(%S+)")
      if first == "*" then
        if #self.pending > 0 and self.pending[1].verb == "GREETING" then
          local cmd = self:answered()
          self:add { op = "expect", greeting = true, status = (text:match("^%*%s+(%a+)") or ""):upper(),
            lines = { l }, line = l.line, cmd = cmd, pre = take() }
        else
          pre[#pre + 1] = l
        end
        if size then self.server_literal = tonumber(size) end
      elseif first == "+" or text == "+" then
        self.cont_open = true
        self:expect { op = "expect", continuation = true, lines = { l }, line = l.line, pre = take() }
      elseif first then
        local tag = self.tags[first]
        local status_word = (text:match("^%S+%s+(%a+)") or ""):upper()
        local cmd
        for k, p in ipairs(self.pending) do
          -- a command typed without a tag is answered under whatever tag the server chose
          if (tag and p.tag == tag) or (not tag and p.untagged and
              (status_word == "OK" or status_word == "NO" or status_word == "BAD")) then
            cmd = table.remove(self.pending, k)
            tag = cmd.tag
            break
          end
        end
        if cmd then
          self:expect { op = "expect", tag = tag, status = status_word, lines = { l }, line = l.line,
            cmd = cmd, pre = take() }
          self:after_reply(cmd, status_word == "OK", l.line)
        else
          pre[#pre + 1] = l
        end
      end
    end
    ::continue::
  end
end

function Builder:line_server(lines)
  for _, l in ipairs(lines) do
    local cmd = self:answered()
    self:add { op = "expect", lines = { l }, line = l.line, cmd = cmd }
  end
end

function Builder:server(lines)
  local p = self.proto
  if p == "smtp" then return self:smtp_server(lines) end
  if p == "pop3" then return self:pop3_server(lines) end
  if p == "imap" then return self:imap_server(lines) end
  return self:line_server(lines)
end

--------------------------------------------------------------------------------------------

-- The events of one file, by connection: {who, text, line, tls}, and what the file says
-- about where to connect.
local function read_events(text)
  local conns, order = {}, {}
  local notation, swaks = nil, false
  local info = {}
  local lineno = 0
  local seen_marker = false
  local prose = {}
  local function conn_of(n)
    local c = conns[n]
    if not c then
      c = { id = n, events = {} }
      conns[n] = c
      order[#order + 1] = n
    end
    return c
  end
  for line in (text .. (text:sub(-1) == "\n" and "" or "\n")):gmatch("([^\n]*)\n") do
    lineno = lineno + 1
    line = line:gsub("\r$", "")
    if not line:find("%S") or line:find("^%s*#") then goto continue end
    do
      local kind, body, tls, conn, seen = classify(line)
      if seen and not notation and (kind == "c" or kind == "s" or kind == "event") then notation = seen end
      if seen == "swaks" then swaks = true end
      local c = conn_of(conn)
      if kind == "c" or kind == "s" then
        seen_marker = true
        local ci = connect_info(body)
        if ci and (kind == "c" or kind == "s") and #c.events == 0 then
          c.connect = c.connect or ci
        elseif is_noise(body) then
          local ci2 = connect_info(body)
          if ci2 then c.connect = c.connect or ci2 end
        else
          c.events[#c.events + 1] = { who = kind, text = body, line = lineno, tls = tls }
        end
      elseif kind == "event" then
        seen_marker = true
        local ci = connect_info(body)
        if ci then
          c.connect = c.connect or ci
        elseif body:find("^TLS ") or body:find("^TLS started") then
          c.events[#c.events + 1] = { who = "tls", line = lineno }
        elseif body:find("^accepted ") then
          c.server_side = true
        end
      elseif kind == "skip" then
        -- swaks's own messages
      else
        local ci = connect_info(body)
        if ci then
          c.connect = c.connect or ci
        elseif not is_noise(body) and notation ~= "parley" and notation ~= "swaks" then
          prose[#prose + 1] = { line = lineno, text = body, after_marker = seen_marker }
        end
      end
    end
    ::continue::
  end
  return conns, order, notation, swaks, info, prose
end

--- Parses a transcript into a plan.
-- @param text the transcript
-- @param name its file name (for messages)
-- @param opts optional `proto` ("smtp", "pop3", "imap", "line": instead of guessing)
-- @return the plan `{ notation, conversations = { {proto, connect, steps} ... } }`, or nil and
--   a message naming the line
function M.parse(text, name, opts)
  opts = opts or {}
  name = name or "transcript"
  local conns, order, notation, swaks, _, prose = read_events(text)
  if not notation then
    return nil, name .. ": not a transcript (no line in a known notation: '> ' / '< ', " ..
      "'C:' / 'S:', parley's or swaks's '<-' / ' ->')"
  end
  -- Prose between the session's lines is most likely a mistake in the paste: say where.
  local last_marker = 0
  for _, c in pairs(conns) do
    for _, e in ipairs(c.events) do
      if e.line > last_marker then last_marker = e.line end
    end
  end
  for _, p in ipairs(prose) do
    if p.after_marker and p.line < last_marker then
      return nil, string.format("%s:%d: neither a client line ('> ', 'C: ') nor a server " ..
        "line ('< ', 'S: '): %s", name, p.line, p.text)
    end
  end
  local plan = { notation = swaks and "swaks" or notation, name = name, conversations = {} }
  for _, id in ipairs(order) do
    local c = conns[id]
    if not c.server_side and #c.events > 0 then
      local first_server
      for _, e in ipairs(c.events) do
        if e.who == "s" then first_server = e.text break end
      end
      local proto = opts.proto or guess_proto(first_server, c.connect and c.connect.port)
      local b = new_builder(proto, opts)
      local implicit = c.connect and c.connect.tls or false
      local first_client_seen = false
      -- the greeting is what the server says first
      if first_server and c.events[1].who ~= "c" then
        b.pending[1] = { verb = "GREETING", line = c.events[1].line }
      elseif proto == "smtp" or proto == "pop3" then
        -- A session pasted without its greeting: the server greets all the same.
        local l = { text = proto == "smtp" and "220" or "+OK", line = c.events[1].line }
        b:add { op = "expect", code = proto == "smtp" and 220 or nil,
          status = proto == "pop3" and "+OK" or nil, lines = { l }, line = l.line,
          cmd = { verb = "GREETING", line = l.line }, implicit = true }
      end
      local group = {}
      local ok, err = pcall(function()
        local function flush()
          if #group > 0 then
            b:server(group)
            group = {}
          end
        end
        for _, e in ipairs(c.events) do
          if e.who == "tls" then
            if not first_client_seen then implicit = true end
          elseif e.who == "s" then
            if e.tls and not first_client_seen then implicit = true end
            group[#group + 1] = e
          else
            flush()
            if e.tls and not first_client_seen then implicit = true end
            first_client_seen = true
            b:client(e.text, e.line)
          end
        end
        flush()
      end)
      if not ok then
        if type(err) == "table" and err.transcript_error then
          return nil, string.format("%s:%d: %s", name, err.line, err.message)
        end
        error(err, 0)
      end
      plan.conversations[#plan.conversations + 1] = {
        id = id, proto = proto, connect = c.connect or {}, implicit_tls = implicit, steps = b.steps,
      }
    end
  end
  if #plan.conversations == 0 then
    return nil, name .. ": the transcript holds no conversation (no client or server line)"
  end
  return plan
end

M.masked = masked
M.CHALLENGE_MECHS = CHALLENGE_MECHS

return M
