--- What a recorded session said, line by line (`parley record`), and the session written out:
-- a transcript in parley's notation, or a Lua script on the protocol library. Pure: bytes in,
-- text out; the proxy that feeds it is parley.record. Credentials are registered as secrets
-- as they pass and never written (the scripts use `args.user` and `args.password`).
-- @module parley.record.tape

local parley = require "parley"

local M = {}

---------------------------------------------------------------------------------------------
-- What one session said, line by line

local Tape = {}
Tape.__index = Tape

--- A new tape. `proto`: "smtp", "pop3", "imap" or nil (guessed from the greeting).
function M.tape(proto)
  return setmetatable({ proto = proto, events = {}, partial = { "", "" }, fifo = {},
    data_mode = false, auth_open = false, tls = false, user = nil }, Tape)
end

local function guess(line)
  if line:find("^%d%d%d") then return "smtp" end
  if line:find("^[%+%-]") then return "pop3" end
  if line:find("^%* ") then return "imap" end
  return "line"
end

-- An SMTP or POP3 `AUTH MECH [initial-response]` line: opens the exchange, registers an
-- initial response as a secret and shows it masked. Returns what `client_line` returns.
function Tape:auth_command(line, shown)
  local mech, ir = line:match("^%S+%s+(%S+)%s*(%S*)$")
  self.auth_open = true
  if ir and ir ~= "" and ir ~= "=" then
    parley.secret(ir)
    shown = "AUTH " .. mech .. " ****"
  end
  return shown, { kind = "auth", mech = mech and mech:upper(), ir = ir ~= "" and ir ~= nil }
end

-- A client line as it may be written: credentials replaced (`****`, `${user}`), and the value
-- registered as a secret so that the run's own transcript masks it.
function Tape:client_line(line)
  local verb = (line:match("^(%S+)") or ""):upper()
  local p = self.proto
  local shown = line
  if self.auth_open then
    if line ~= "*" and line ~= "" then
      parley.secret(line)
      shown = "****"
    end
    return shown, { kind = "auth_response" }
  end
  if p == "smtp" then
    if self.data_mode then
      if line == "." then self.data_mode = false end
      return line, { kind = "data" }
    end
    if verb == "AUTH" then
      return self:auth_command(line, shown)
    end
  elseif p == "pop3" then
    if verb == "PASS" then
      local v = line:match("^%S+%s(.*)$") or ""
      if v ~= "" then parley.secret(v) end
      return "PASS ****", { kind = "pass" }
    elseif verb == "USER" then
      self.user = line:match("^%S+%s(.*)$")
      return "USER ${user}", { kind = "user" }
    elseif verb == "AUTH" and line:match("^%S+%s+%S+") then
      return self:auth_command(line, shown)
    end
  elseif p == "imap" then
    local tag, cmd, rest = line:match("^(%S+)%s+(%S+)%s*(.*)$")
    cmd = cmd and cmd:upper()
    if cmd == "LOGIN" then
      local user, pass = rest:match('^("[^"]*")%s+(.+)$')
      if not user then user, pass = rest:match("^(%S+)%s+(.+)$") end
      if pass then
        parley.secret(pass)
        local unquoted = pass:match('^"(.*)"$')
        if unquoted and unquoted ~= "" then parley.secret((unquoted:gsub('\\(.)', "%1"))) end
        self.user = user:match('^"(.*)"$') or user
        return tag .. " LOGIN ${user} ****", { kind = "login", tag = tag }
      end
    elseif cmd == "AUTHENTICATE" then
      local mech, ir = rest:match("^(%S+)%s*(%S*)$")
      self.auth_open = true
      if ir and ir ~= "" and ir ~= "=" then
        parley.secret(ir)
        shown = tag .. " AUTHENTICATE " .. mech .. " ****"
      end
      return shown, { kind = "auth", mech = mech and mech:upper(), ir = ir ~= "" and ir ~= nil, tag = tag }
    end
  end
  return line, { kind = "command", verb = verb }
end

-- After a server line: whether the AUTH exchange or DATA goes on, and whether the reply
-- accepted a STARTTLS (then the caller upgrades both sides before relaying more).
function Tape:server_line(line)
  local p = self.proto
  local upgrade = false
  local last = self.last_client
  local verb = last and (last.verb or "") or ""
  if p == "smtp" then
    -- Replies answer the commands in order (PIPELINING sends several at once).
    local code, sep = line:match("^(%d%d%d)(.?)")
    local front = self.fifo[1]
    if front then
      front.reply = front.reply or {}
      front.reply[#front.reply + 1] = line
    end
    if code and sep ~= "-" and not (self.auth_open and code == "334") then
      self.auth_open = false
      table.remove(self.fifo, 1)
      local v = front and front.verb
      if v == "STARTTLS" and code == "220" then upgrade = true end
      if v == "DATA" and code == "354" then self.data_mode = true end
    end
  elseif p == "pop3" then
    if self.auth_open and not line:find("^%+ ") and line ~= "+" then self.auth_open = false end
    if verb == "STLS" and line:find("^%+OK") then upgrade = true end
    if line:find("^[%+%-]") then self.last_client = nil end
  elseif p == "imap" then
    local tag, status = line:match("^(%S+)%s+(%a+)")
    if self.auth_open and tag and tag ~= "*" and tag ~= "+" then self.auth_open = false end
    if last and last.tag_cmd == "STARTTLS" and tag == last.tag and status and status:upper() == "OK" then
      upgrade = true
    end
    if last and tag == last.tag then self.last_client = nil end
  end
  return upgrade
end

--- Feeds bytes from one side (1 client, 2 server); returns the complete lines (as they may
-- be shown) and whether a STARTTLS was just accepted.
function Tape:feed(side, bytes)
  local buf = self.partial[side] .. bytes
  local out = {}
  local upgrade = false
  local pos = 1
  while true do
    local lf = buf:find("\n", pos, true)
    if not lf then break end
    local line = buf:sub(pos, lf - 1):gsub("\r$", "")
    pos = lf + 1
    if side == 2 and not self.proto then self.proto = guess(line) end
    local shown, info
    if side == 1 then
      shown, info = self:client_line(line)
      if info.kind == "command" or info.kind == "auth" or info.kind == "login" then
        local tag, cmd = line:match("^(%S+)%s+(%S+)")
        self.last_client = { verb = info.verb, tag = tag, tag_cmd = cmd and cmd:upper() }
      end
    else
      shown = line
      if self:server_line(line) then upgrade = true end
    end
    local e = { who = side == 1 and "c" or "s", text = shown, tls = self.tls, info = info }
    self.events[#self.events + 1] = e
    if side == 1 and self.proto == "smtp" then
      local kind = info.kind
      if kind == "command" or kind == "auth" then
        e.verb = (line:match("^(%S+)") or ""):upper()
        self.fifo[#self.fifo + 1] = e
      elseif kind == "data" and line == "." then
        e.verb = "DATA_END"
        self.fifo[#self.fifo + 1] = e
      end
    end
    out[#out + 1] = line
  end
  self.partial[side] = buf:sub(pos)
  return out, upgrade
end

function Tape:mark_tls()
  self.tls = true
  self.events[#self.events + 1] = { who = "tls" }
end

---------------------------------------------------------------------------------------------
-- Writing a session out

--- The session as a transcript in parley's notation (`<-` server, ` ->` client, `<~`/` ~>`
-- under TLS, `===` events), which `parley run` and `parley test` play back.
function Tape:transcript(meta)
  local out = {
    "# Recorded by parley record: " .. meta.when .. ", a session with " .. meta.to .. ".",
    "# Credentials are masked: parley run FILE user=NAME password=PASS [host=H port=P ca=FILE]",
    "=== connected to " .. meta.to,
  }
  if meta.implicit then out[#out + 1] = "=== TLS (implicit)" end
  for _, e in ipairs(self.events) do
    if e.who == "tls" then
      out[#out + 1] = "=== TLS started"
    elseif e.who == "c" then
      out[#out + 1] = (e.tls and " ~> " or " -> ") .. e.text
    else
      out[#out + 1] = (e.tls and "<~ " or "<- ") .. e.text
    end
  end
  return table.concat(out, "\n") .. "\n"
end

local function lua_string(s)
  return string.format("%q", s):gsub("\\\n", "\\n")
end

-- Server lines that follow event i, up to the next client line: one reply's worth.
local function replies_after(events, i)
  local lines = {}
  local j = i + 1
  while j <= #events and events[j].who ~= "c" do
    if events[j].who == "s" then lines[#lines + 1] = events[j].text end
    j = j + 1
  end
  return lines, j
end

local function smtp_code(lines)
  local last = lines[#lines]
  return last and tonumber(last:match("^(%d%d%d)")) or nil
end

--- The session as a Lua script on the protocol library (SMTP, POP3, IMAP), with plain
-- send/expect for what it does not recognise.
function Tape:lua(meta)
  local p = self.proto or "line"
  local host, port = meta.to:match("^(.*):(%d+)$")
  local out = {
    "-- Recorded by parley record: " .. meta.when .. ", a session with " .. meta.to .. ".",
    "-- parley run THIS_FILE user=NAME password=PASS [host=H port=P ca=FILE]",
    "-- The credentials were not recorded: they come from user= and password=.",
  }
  local function add(s) out[#out + 1] = s end
  local tls = meta.implicit and ', tls = "implicit"' or ""
  local target = string.format('host = args.host or %s, port = tonumber(args.port) or %s%s, ca = args.ca',
    lua_string(host or "127.0.0.1"), port or "25", tls)
  local ev = self.events
  if p == "smtp" then
    add('local smtp = require "parley.smtp"')
    add("local s = smtp.connect { " .. target .. " }")
    local i = 1
    while i <= #ev do
      local e = ev[i]
      i = i + 1
      if e.who ~= "c" or not e.verb then goto next end
      do
        local code = smtp_code(e.reply or {})
        local want = code and (", { expect = " .. code .. " }") or ""
        local verb = e.verb
        local info = e.info or {}
        if info.kind == "auth" then
          add(string.format('s:auth(%s, args.user, args.password%s)', lua_string(info.mech or "PLAIN"), want))
        elseif verb == "EHLO" or verb == "HELO" then
          add(string.format("s:%s(%s%s)", verb:lower(), lua_string(e.text:match("^%S+%s+(.*)$") or ""), want))
        elseif verb == "STARTTLS" and code == 220 then
          add("s:starttls { caps = false, sni = args.sni }")
        elseif verb == "MAIL" and e.text:match("^%S+%s+[Ff][Rr][Oo][Mm]:%s*<([^>]*)>%s*$") then
          add(string.format("s:mail(%s%s)", lua_string(e.text:match("<([^>]*)>")), want))
        elseif verb == "RCPT" and e.text:match("^%S+%s+[Tt][Oo]:%s*<([^>]*)>%s*$") then
          add(string.format("s:rcpt(%s%s)", lua_string(e.text:match("<([^>]*)>")), want))
        elseif verb == "DATA" and code == 354 then
          -- the message: client lines up to the dot, dot-unstuffed
          local body = {}
          while i <= #ev and not (ev[i].who == "c" and ev[i].verb == "DATA_END") do
            if ev[i].who == "c" then body[#body + 1] = (ev[i].text:gsub("^%.%.", ".")) end
            i = i + 1
          end
          local final = ev[i] and smtp_code(ev[i].reply or {}) or 250
          i = i + 1
          add(string.format("s:data(%s, { expect = %d })",
            lua_string(table.concat(body, "\n") .. "\n"), final))
        elseif verb == "QUIT" then
          add("s:quit(" .. (code and ("{ expect = " .. code .. " }") or "") .. ")")
        else
          add("s.conn:send(" .. lua_string(e.text) .. ")")
          if code then add("s.conn:expect(" .. code .. ")") end
        end
      end
      ::next::
    end
  elseif p == "pop3" or p == "imap" then
    add(string.format('local %s = require "parley.%s"', p, p))
    add(string.format("local s = %s.connect { %s }", p, target))
    local i = 1
    while i <= #ev and ev[i].who ~= "c" do i = i + 1 end
    while i <= #ev do
      local e = ev[i]
      if e.who ~= "c" then i = i + 1 goto next end
      do
        local replies, j = replies_after(ev, i)
        local info = e.info or {}
        if p == "pop3" then
          local ok = replies[1] and replies[1]:find("^%+OK") and true or false
          local want = ok and '"+OK"' or '"-ERR"'
          local verb = (e.text:match("^(%S+)") or ""):upper()
          if info.kind == "user" then
            -- USER and PASS: one login call when both follow
            if ev[j] and ev[j].info and ev[j].info.kind == "pass" then
              local _, k = replies_after(ev, j)
              add("s:login(args.user, args.password)")
              i = k
              goto next
            end
            add('s.conn:send("USER " .. args.user)')
            add("s.conn:expect(function(r) return r.status == " .. want .. " end)")
          elseif info.kind == "auth" then
            local k = i + 1
            while k <= #ev and not (ev[k].who == "s" and ev[k].text:find("^[%+%-]%u")) do k = k + 1 end
            add(string.format("s:auth(%s, args.user, args.password)", lua_string(info.mech or "PLAIN")))
            i = k + 1
            goto next
          elseif verb == "STLS" and ok then
            add("s:stls { sni = args.sni }")
          elseif verb == "QUIT" then
            add("s:quit()")
          else
            if #replies > 1 then add("s.conn:want_block()") end
            add("s.conn:send(" .. lua_string(e.text) .. ")")
            add("s.conn:expect(function(r) return r.status == " .. want .. " end)")
          end
        else
          local tag, rest = e.text:match("^(%S+)%s*(.*)$")
          local status = "OK"
          for _, l in ipairs(replies) do
            local t, st = l:match("^(%S+)%s+(%a+)")
            if t == tag then status = st:upper() end
          end
          local cmd = (rest:match("^(%S+)") or ""):upper()
          local want = status ~= "OK" and (', { expect = "' .. status .. '" }') or ""
          if info.kind == "login" then
            add("s:login(args.user, args.password" .. want .. ")")
          elseif info.kind == "auth" then
            local k = i + 1
            while k <= #ev and not (ev[k].who == "s" and ev[k].text:find("^" .. tag:gsub("%p", "%%%0") .. " ")) do k = k + 1 end
            add(string.format("s:auth(%s, args.user, args.password)", lua_string(info.mech or "PLAIN")))
            i = k + 1
            goto next
          elseif cmd == "STARTTLS" and status == "OK" then
            add("s:starttls { caps = false, sni = args.sni }")
          elseif cmd == "LOGOUT" then
            add("s:quit()")
          elseif rest ~= "" then
            add("s:command(" .. lua_string(rest) .. want .. ")")
          end
        end
        i = j
      end
      ::next::
    end
  else
    add(string.format("local c = connect { %s, framing = \"line\" }", target))
    for _, e in ipairs(ev) do
      if e.who == "c" then
        add("c:send(" .. lua_string(e.text) .. ")")
      elseif e.who == "s" then
        add("c:expect(function(r) return true end)")
      elseif e.who == "tls" then
        add("c:starttls { sni = args.sni }")
      end
    end
  end
  return table.concat(out, "\n") .. "\n"
end

return M
