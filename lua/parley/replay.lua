--- `parley serve --replay TRANSCRIPT`: plays the server side of a recorded conversation to a
-- client under test. It sends the server's lines when the client's lines arrive, serves
-- STARTTLS where the transcript did, and stops (exit 1, naming the transcript's line) where
-- the client deviates. curl's test-server idea, with the transcript as the test file.
--
-- Client lines are compared word by word, ignoring case and the volatile words that
-- `parley.transcript.normalize` leaves out (dates, message ids, ...), so that a client
-- sending the same message again matches. IMAP tags are the client's own; credentials in
-- AUTH, LOGIN and PASS are not compared (the mechanism and the command are).
-- @module parley.replay

local parley = require "parley"
local transcript = require "parley.transcript"

local M = {}

local Replay = {}
Replay.__index = Replay

function Replay:fail(lineno, msg)
  local refusal = { smtp = "421 4.5.0 parley replay: not the transcript's conversation",
    pop3 = "-ERR parley replay: not the transcript's conversation",
    imap = "* BYE parley replay: not the transcript's conversation" }
  local say = refusal[self.proto]
  if say and self.conn:is_open() then pcall(self.conn.send, self.conn, say) end
  if self.conn:is_open() then pcall(self.conn.close, self.conn) end
  local _, err = pcall(parley.raise, 1, "expect", msg)
  if type(err) ~= "table" then error(err, 0) end
  err.where = self.name .. ":" .. tostring(lineno)
  error(err, 0)
end

function Replay:expand(text)
  return (text:gsub("%${([%w_]+)}", function(name)
    local v = self.args[name]
    return v ~= nil and parley.reveal(v) or nil
  end))
end

-- The next line from the client, or a failure naming what the transcript waited for.
function Replay:read(step, wanted)
  local line, why = self.conn:read_line()
  if line then return line end
  self:fail(step.line, "the client " .. (why == "timeout" and "sent nothing" or "closed the connection") ..
    " where the transcript has it send: " .. wanted)
end

local function same(a, b)
  return transcript.normalize(a:lower()) == transcript.normalize(b:lower())
end

-- The transcript's client line against what came (the IMAP tag apart).
function Replay:client(step)
  local want = self:expand(step.text)
  local got = self:read(step, want)
  local w, g = want, got
  if self.proto == "imap" and not step.data then
    local gtag
    gtag, g = got:match("^(%S+)%s*(.*)$")
    w = want:match("^%S+%s*(.*)$") or want
    self.tags[step.tag or ""] = gtag
  end
  if step.cred == "pass" then
    w, g = w:match("^(%S+)"), g:match("^(%S+)")   -- the password itself is not compared
  end
  if not same(w or "", g or "") then
    self:fail(step.line, "the client deviated from the transcript: expected " ..
      string.format("%q", parley.mask(want)) .. "\n  got " .. string.format("%q", parley.mask(got)))
  end
end

-- The transcript's server lines of one reply (untagged lines before it included), with the
-- IMAP tag the client chose.
function Replay:server(step)
  for _, l in ipairs(step.pre or {}) do self.conn:send(self:expand(l.text)) end
  for _, l in ipairs(step.lines) do
    local text = self:expand(l.text)
    if self.proto == "imap" and step.tag then
      text = (self.tags[step.tag] or step.tag) .. (text:match("^%S+(.*)$") or "")
    end
    self.conn:send(text)
  end
end

-- AUTH / AUTHENTICATE: the command and mechanism compared, the responses taken as they come.
function Replay:auth(step)
  local got = self:read(step, step.command)
  local g = got
  if self.proto == "imap" then
    local gtag
    gtag, g = got:match("^(%S+)%s*(.*)$")
    self.tags[step.tag or ""] = gtag
  end
  local want_mech = step.command:match("^%S+%s+(%S+)") or ""
  local verb, mech = (g or ""):match("^(%S+)%s+(%S+)")
  local want_verb = step.command:match("^(%S+)") or ""
  if not verb or verb:upper() ~= want_verb:upper() or mech:upper() ~= want_mech:upper() then
    self:fail(step.line, "the client deviated from the transcript: expected " ..
      string.format("%q", want_verb .. " " .. want_mech .. " ...") .. "\n  got " ..
      string.format("%q", parley.mask(got)))
  end
  for _, challenge in ipairs(step.challenges or {}) do
    self:server(challenge)
    local resp = self:read(challenge, "an AUTH response")
    if resp ~= "" and resp ~= "*" then parley.secret(resp) end
  end
  if step.final then self:server(step.final) end
end

function Replay:login(step)
  local got = self:read(step, "LOGIN")
  local gtag, cmd = got:match("^(%S+)%s+(%S+)")
  if not cmd or cmd:upper() ~= "LOGIN" then
    self:fail(step.line, "the client deviated from the transcript: expected a LOGIN\n  got " ..
      string.format("%q", parley.mask(got)))
  end
  local pass = got:match("^%S+%s+%S+%s+%S+%s+(.+)$")
  if pass then parley.secret(pass) end
  self.tags[step.tag] = gtag
end

local function run_conv(self, conv)
  for _, step in ipairs(conv.steps) do
    local op = step.op
    if op == "send" then
      self:client(step)
    elseif op == "expect" then
      if not step.implicit then self:server(step) end
    elseif op == "starttls" then
      self.conn:starttls {}
    elseif op == "auth" then
      self:auth(step)
    elseif op == "login" then
      self:login(step)
    end
  end
end

--- Serves the transcript's conversations, one client each, in order.
-- @param cfg `path`, `host`, `port` (0: any), `tls` ("implicit" for implicit TLS), `cert`, `key`
function M.main(cfg)
  local plan, err = transcript.load(cfg.path)
  if not plan then parley.raise(2, "script", err) end
  local implicit = cfg.tls == "implicit" or plan.conversations[1].implicit_tls
  local srv = parley.listen { host = cfg.host or "127.0.0.1", port = tonumber(cfg.port) or 0,
    tls = implicit and "implicit" or "starttls", cert = cfg.cert, key = cfg.key }
  io.stdout:write(string.format("parley serve: replaying %s on %s:%d\n", cfg.path,
    cfg.host or "127.0.0.1", srv.port))
  io.stdout:flush()
  for i, conv in ipairs(plan.conversations) do
    local c = srv:accept(math.huge)
    local self = setmetatable({ conn = c, proto = conv.proto, name = plan.name, tags = {},
      args = parley.args }, Replay)
    run_conv(self, conv)
    -- what the client says after the transcript ends (a last QUIT) is not awaited
    if c:is_open() then c:close() end
    io.stdout:write(string.format("parley serve: conversation %d followed the transcript\n", i))
    io.stdout:flush()
  end
end

return M
