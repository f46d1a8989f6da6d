--- Transcripts that run: a session pasted from a telnet guide (`> ` / `< `, `C:` / `S:`), a
-- parley transcript (`<-`, ` ->`, `<~`, ` ~>`, `===`, `[n]`, `-v` timestamps) or a swaks one
-- (`<-`, ` ->`, `<~`, ` ~>`, `===`, `***`) becomes a conversation plan: lines to send, replies
-- to check, the TLS upgrade and the AUTH exchange; `run` plays the plan against a server.
--
-- Replies are checked by their code (SMTP, a multi-line reply taken as one), their status
-- (POP3 `+OK`/`-ERR`) or their tagged status (IMAP, tags renumbered `t1`, `t2`, ...); with
-- `exact` the text is compared too, with the volatile words left out (see `M.normalize`).
--
--     local transcript = require "parley.transcript"
--     local plan = assert(transcript.parse(text, "session.txt"))
--     transcript.run(plan, { args = args, exact = false })
--
-- Parsing is one pass over the lines with anchored patterns: linear in the input.
-- @module parley.transcript

local parley = require "parley"
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

---------------------------------------------------------------------------------------------
-- Volatile words (for exact comparison)

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

---------------------------------------------------------------------------------------------
-- Running a plan

local Runner = {}
Runner.__index = Runner

function Runner:where(lineno)
  return self.name .. ":" .. tostring(lineno)
end

-- Raises a failure positioned at the transcript's line.
function Runner:fail(lineno, exit, kind, msg, r)
  local _, err = pcall(parley.raise, exit, kind, msg)
  if type(err) ~= "table" then error(err, 0) end
  err.where = self:where(lineno)
  if r and r.code then err.code, err.enhanced = r.code, r.enhanced end
  error(err, 0)
end

-- `${NAME}` replaced with args.NAME.
function Runner:expand(text, lineno)
  if not text:find("${", 1, true) then return text end
  -- A secret value (password=...) is registered already: the transcript masks it in the line.
  return (text:gsub("%${([%w_]+)}", function(name)
    local v = self.args[name]
    if v == nil then
      self:fail(lineno, 2, "script", "${" .. name .. "} needs " .. name .. "=VALUE on the command line")
    end
    return parley.reveal(v)
  end))
end

local function quote_lines(lines)
  local parts = {}
  for i, l in ipairs(lines) do
    if i > 3 then
      parts[#parts + 1] = string.format("(+%d more lines)", #lines - 3)
      break
    end
    parts[#parts + 1] = l.text
  end
  return table.concat(parts, " | ")
end

local function codes_meaning(r)
  local ok, codes = pcall(require, "parley.codes")
  return ok and codes.meaning and codes.meaning(r) or nil
end

local function show(r)
  local lines = r.lines or {}
  local first = r.text or ""
  if r.code then first = r.code .. " " .. (lines[1] or first) end
  if r.tag then first = r.text end
  first = first:gsub("[%c]", "")
  if #lines > 1 and not r.tag then first = first .. string.format(" (+%d more lines)", #lines - 1) end
  return first
end

function Runner:mismatch(step, wanted, r)
  local msg = { "expected " .. wanted .. " (transcript line " .. step.line .. ": " ..
    quote_lines(step.lines) .. "), got: " .. show(r) }
  local meaning = codes_meaning(r)
  if meaning then msg[#msg + 1] = "  meaning: " .. meaning end
  if step.cmd and step.cmd.text then
    msg[#msg + 1] = "  in reply to: " .. parley.mask(step.cmd.text) .. " (line " .. step.cmd.line .. ")"
  end
  msg[#msg + 1] = "  from " .. self.conn.peer
  self:fail(step.line, 1, "expect", table.concat(msg, "\n"), r)
end

function Runner:read(step, wanted)
  local r, why = self.conn:read_reply()
  if r then return r end
  local head = "expected " .. wanted .. " (transcript line " .. step.line .. ": " ..
    quote_lines(step.lines) .. "), "
  if why == "timeout" then
    self:fail(step.line, 1, "timeout", head .. "but nothing came from " .. self.conn.peer ..
      " within " .. tostring(self.conn.timeout) .. " s")
  end
  self:fail(step.line, 1, "eof", head .. "but " .. self.conn.peer .. " closed the connection")
end

function Runner:compare_text(step, r, got_text, want_text, host)
  if not self.exact or step.implicit then return end
  local a = M.normalize(want_text, host)
  local b = M.normalize(got_text, host)
  if a ~= b then
    self:fail(step.line, 1, "expect", "expected the text of transcript line " .. step.line ..
      " (--exact, volatile words as *): " .. a .. "\n  got: " .. b .. "\n  from " .. self.conn.peer, r)
  end
end

-- The text of an SMTP reply's lines after their codes.
local function smtp_text(lines)
  local parts = {}
  for i, l in ipairs(lines) do
    parts[i] = (l.text or l):gsub("^%d%d%d[%- ]?", "")
  end
  return table.concat(parts, "\n")
end

function Runner:expect_smtp(step)
  local wanted = step.code and tostring(step.code) or "a reply"
  local r = self:read(step, wanted)
  if step.code and r.code ~= step.code then self:mismatch(step, wanted, r) end
  if self.exact and not step.implicit then
    local verb = step.cmd and step.cmd.verb
    local host = verb == "GREETING" or verb == "EHLO" or verb == "HELO" or verb == "LHLO"
    local want = smtp_text(step.lines)
    local got = table.concat(r.lines or { r.text }, "\n")
    -- each line on its own, so that the host word of a greeting is the first of the first line
    local wl, gl = {}, {}
    for l in (want .. "\n"):gmatch("([^\n]*)\n") do wl[#wl + 1] = l end
    for l in (got .. "\n"):gmatch("([^\n]*)\n") do gl[#gl + 1] = l end
    if #wl ~= #gl then
      self:fail(step.line, 1, "expect", string.format("expected a reply of %d lines as on " ..
        "transcript line %d (--exact), got %d: %s", #wl, step.line, #gl, show(r)), r)
    end
    for i = 1, #wl do self:compare_text(step, r, gl[i], wl[i], host and i == 1) end
  end
  return r
end

function Runner:expect_pop3(step)
  if step.block then self.conn:want_block() end
  local r = self:read(step, step.status)
  if r.status ~= step.status then self:mismatch(step, step.status, r) end
  local greeting = step.cmd and step.cmd.verb == "GREETING"
  local want = step.lines[1].text:gsub("^[%+%-]%u*%s?", "")
  local got = (r.text or ""):gsub("^[%+%-]%u*%s?", "")
  if greeting then
    want, got = want:gsub("<[^<>]*>", "<*>"), got:gsub("<[^<>]*>", "<*>")
  end
  self:compare_text(step, r, got, want)
  return r
end

function Runner:expect_imap(step)
  local wanted
  if step.greeting then
    wanted = "* " .. step.status
  elseif step.continuation then
    wanted = "a continuation (+)"
  else
    wanted = step.tag .. " " .. step.status
  end
  local seen = 0
  while true do
    local r = self:read(step, wanted)
    seen = seen + 1
    local tag = r.tag
    if step.greeting then
      local status = ((r.text or ""):match("^%*%s+(%a+)") or ""):upper()
      if tag ~= "*" or status ~= step.status then self:mismatch(step, wanted, r) end
      self:compare_text(step, r, r.text:gsub("^%*%s+%a+%s?", ""), step.lines[1].text:gsub("^%*%s+%a+%s?", ""))
      return r
    elseif step.continuation then
      if tag == "+" then return r end
      if tag ~= "*" then self:mismatch(step, wanted, r) end
    else
      if tag == step.tag then
        local status = ((r.text or ""):match("^%S+%s+(%a+)") or ""):upper()
        if status ~= step.status then self:mismatch(step, wanted, r) end
        self:compare_text(step, r, r.text:gsub("^%S+%s+%a+%s?", ""), step.lines[1].text:gsub("^%S+%s+%a+%s?", ""))
        return r
      end
      if tag == "+" then self:mismatch(step, wanted, r) end
    end
  end
end

function Runner:expect_line(step)
  local r = self:read(step, "a line")
  self:compare_text(step, r, r.text or "", step.lines[1].text)
  return r
end

function Runner:expect(step)
  local p = self.proto
  if p == "smtp" then return self:expect_smtp(step) end
  if p == "pop3" then return self:expect_pop3(step) end
  if p == "imap" then return self:expect_imap(step) end
  return self:expect_line(step)
end

function Runner:password(step)
  local pass = self.args.password
  if pass == nil then
    self:fail(step.line, 2, "script", "the transcript's password is masked (****) here: " ..
      "give password=PASS on the command line (or --ask-password)")
  end
  if not parley.is_secret(pass) then pass = parley.secret(tostring(pass)) end
  return pass
end

-- Credentials for a replayed exchange: args first, then what the transcript shows.
function Runner:credentials(step, seen_user)
  local user = self.args.user
  if user == nil and seen_user and not masked(seen_user) then user = seen_user end
  local pass = self.args.password
  if user == nil or pass == nil then
    self:fail(step.line, 2, "script", "the transcript's credentials are masked (****) here: " ..
      "give user=NAME password=PASS on the command line (or --ask-password)")
  end
  if not parley.is_secret(pass) then pass = parley.secret(tostring(pass)) end
  return user, pass
end

local function b64decode(s)
  local v = crypto.b64decode(s or "")
  return v
end

-- The user name an exchange shows, when it shows one (PLAIN's authcid, LOGIN's first answer).
local function user_in_exchange(step)
  if step.mech == "PLAIN" then
    local ir = step.ir or (step.responses[1] and step.responses[1].text)
    local decoded = ir and b64decode(ir)
    if decoded then return decoded:match("^[^%z]*%z([^%z]*)%z") end
  elseif step.mech == "LOGIN" then
    local first = step.ir or (step.responses[1] and step.responses[1].text)
    return first and b64decode(first)
  end
  return nil
end

function Runner:replays(step)
  return step.masked or self.ask_password or CHALLENGE_MECHS[step.mech] or
    step.mech:find("^SCRAM") ~= nil
end

-- The AUTH / AUTHENTICATE exchange: as recorded, or again with args.user / args.password.
function Runner:auth(step)
  local c = self.conn
  local final = step.final
  if not self:replays(step) then
    local prefix = step.tag and (step.tag .. " ") or ""
    c:send(prefix .. self:expand(step.command, step.line))
    for i, resp in ipairs(step.responses) do
      local r = self:read({ line = resp.line, lines = { resp } }, "a continuation")
      local cont = (self.proto == "smtp" and r.code == 334) or r.tag == "+" or r.status == "+"
      if not cont then
        if final then return self:check_final(final, r) end
        return r
      end
      c:send(self:expand(resp.text, resp.line))
      if i == #step.responses then break end
    end
    if final then return self:expect(final) end
    return
  end
  local sasl = require "parley.sasl"
  local user, pass = self:credentials(step, user_in_exchange(step))
  local m = sasl.start(step.mech, user, pass)
  local line = (self.proto == "imap" and "AUTHENTICATE " or "AUTH ") .. m.name
  if step.ir and m:has_initial() then
    local ir = m:initial()
    line = line .. " " .. (#ir == 0 and "=" or crypto.b64encode(ir))
  end
  c:send((step.tag and (step.tag .. " ") or "") .. line)
  local where = { line = step.line, lines = { { text = step.command } } }
  while true do
    local r = self:read(final or where, "the end of the AUTH exchange")
    local challenge
    if self.proto == "smtp" and r.code == 334 then
      challenge = r.text
    elseif self.proto == "imap" and r.tag == "+" then
      challenge = (r.text or ""):gsub("^%+%s?", "")
    elseif self.proto == "pop3" and r.status == "+" then
      challenge = (r.text or ""):gsub("^%+%s?", "")
    elseif self.proto == "imap" and r.tag ~= step.tag then
      goto continue
    else
      if final then return self:check_final(final, r) end
      return r
    end
    do
      local resp, why = m:step(crypto.b64decode(challenge or "") or "")
      if not resp then
        c:send("*")
        self:fail(step.line, 1, "protocol", "AUTH " .. m.name .. ": " .. tostring(why))
      end
      c:send(#resp == 0 and "" or crypto.b64encode(resp))
    end
    ::continue::
  end
end

-- The final reply of an exchange, already read, against the transcript's.
function Runner:check_final(step, r)
  if self.proto == "smtp" then
    if step.code and r.code ~= step.code then self:mismatch(step, tostring(step.code), r) end
  elseif self.proto == "pop3" then
    if r.status ~= step.status then self:mismatch(step, step.status, r) end
  elseif self.proto == "imap" then
    local status = ((r.text or ""):match("^%S+%s+(%a+)") or ""):upper()
    if status ~= step.status then self:mismatch(step, step.tag .. " " .. step.status, r) end
  end
  return r
end

function Runner:login(step)
  if not (step.masked or self.ask_password) then
    return self.conn:send(self:expand(step.text, step.line))
  end
  local seen = step.user and step.user:gsub('^"(.*)"$', "%1")
  local user, pass = self:credentials(step, seen and self:expand(seen, step.line))
  local function quoted(v)
    return '"' .. parley.reveal(v):gsub('[\\"]', "\\%0") .. '"'
  end
  -- the password is registered as a secret: the transcript shows ****
  self.conn:send(step.tag .. " LOGIN " .. quoted(user) .. " " .. quoted(pass))
end

function Runner:send(step)
  local text = step.text
  if step.cred and (masked(text) or (self.ask_password and step.cred == "pass")) then
    if step.cred == "user" then
      local user = self:credentials(step, text:match("^%S+%s+(.+)$"))
      return self.conn:send("USER " .. user)
    end
    return self.conn:send("PASS " .. self:password(step))
  end
  self.conn:send(self:expand(text, step.line))
end

function Runner:starttls(step)
  local opts = { sni = self.args.sni, ca = self.args.ca }
  if self.args.verify == "no" or self.args.verify == "false" then opts.verify = false end
  self.conn:starttls(opts)
end

--- The argument that gives a conversation's port when `port=` does not: `smtp_port`,
-- `submission_port` (a transcript connecting to 587), `smtps_port`, `pop3_port`, `pop3s_port`,
-- `imap_port` or `imaps_port` (with implicit TLS); so that one command runs a folder of
-- transcripts of several protocols.
function M.port_arg(proto, port, tls)
  if proto == "smtp" and port == 587 then return "submission_port" end
  return proto .. (tls and "s" or "") .. "_port"
end

local FRAMING = { smtp = "smtp", pop3 = "pop3", imap = "imap", line = "line" }

function Runner:open(conv)
  local a = self.args
  local host = a.host or conv.connect.host or "127.0.0.1"
  if host:find("%$") then host = a.host or "127.0.0.1" end
  local tls = conv.implicit_tls
  if a.tls == "implicit" or a.tls == "yes" or a.tls == "true" then tls = true end
  local port = tonumber(a.port) or tonumber(a[M.port_arg(conv.proto, conv.connect.port, tls)])
    or conv.connect.port
  if not port then
    parley.raise(2, "script", self.name .. ": no port: give port=N (the transcript has no " ..
      "telnet or connect line that says one)")
  end
  local spec = { host = host, port = port, tls = tls, framing = FRAMING[conv.proto], ca = a.ca,
    sni = a.sni }
  if a.verify == "no" or a.verify == "false" then spec.verify = false end
  self.conn = parley.connect(spec)
end

--- Runs a plan: each conversation in the order the transcript opened them.
-- @param plan from `parse`
-- @param opts `args` (the NAME=VALUE table), `exact`, `ask_password`
function M.run(plan, opts)
  opts = opts or {}
  for _, conv in ipairs(plan.conversations) do
    local r = setmetatable({ name = plan.name, proto = conv.proto, args = opts.args or {},
      exact = opts.exact, ask_password = opts.ask_password }, Runner)
    r:open(conv)
    for _, step in ipairs(conv.steps) do
      local op = step.op
      if op == "send" then
        r:send(step)
      elseif op == "expect" then
        r:expect(step)
      elseif op == "starttls" then
        r:starttls(step)
      elseif op == "auth" then
        r:auth(step)
      elseif op == "login" then
        r:login(step)
      end
    end
    r.conn:close()
  end
end

--- Reads a file and parses it.
-- @return the plan, or nil and a message
function M.load(path, opts)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  return M.parse(text, path, opts)
end

--- `parley run TRANSCRIPT`: `cfg` holds `path`, `exact`, `ask_password`, `proto`, and
-- `lua_error` (why the file is not a Lua script, shown when it is no transcript either).
function M.main(cfg)
  local plan, err = M.load(cfg.path, { proto = cfg.proto })
  if not plan then
    if cfg.lua_error and not err:find(":%d+: ") then
      err = cfg.lua_error .. "\n  (nor is it a transcript: " .. err .. ")"
    end
    parley.raise(2, "script", err)
  end
  M.run(plan, { args = parley.args, exact = cfg.exact, ask_password = cfg.ask_password })
end

return M
