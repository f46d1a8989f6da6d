--- Running a transcript's plan against a server: each line sent, each reply checked by its
-- code, status or tagged status (the text too with `exact`), STARTTLS and AUTH done as the
-- transcript did them. Part of parley.transcript, which re-exports `run` and `port_arg`.
-- @module parley.transcript.run

local parley = require "parley"
local crypto = require "parley.crypto"
local parse = require "parley.transcript.parse"
local volatile = require "parley.transcript.volatile"

local M = {}

local masked, CHALLENGE_MECHS = parse.masked, parse.CHALLENGE_MECHS

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
  local a = volatile.normalize(want_text, host)
  local b = volatile.normalize(got_text, host)
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

return M
