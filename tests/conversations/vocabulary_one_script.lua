-- vocabulary_one_script.lua: one function written against the shared vocabulary
-- (docs/vocabulary.md) runs unchanged on an SMTP, a POP3 and an IMAP session of the mocks:
-- connect, starttls{caps=false}, capabilities, caps.AUTH, auth, command(line, {expect=}),
-- expect=true/false, the pass-throughs, read_reply's nil-and-why, a command's timeout
-- message, a misspelled method, quit. Then the old spellings still work.
-- exit: 0
-- args: --timeout 10
-- stdout: smtp: the vocabulary holds
-- stdout: pop3: the vocabulary holds
-- stdout: imap: the vocabulary holds
-- stdout: old spellings work
-- stdout: mock option names agree
-- within: 30

local users = { alice = "secret" }
local function start(proto)
  return require("parley.mock." .. proto).start { tls = "starttls", users = users }
end

-- What differs is only the protocol's: a command that the server accepts, one it refuses.
local protocols = {
  smtp = { ok = "NOOP", bad = "NO-SUCH-VERB" },
  pop3 = { ok = "NOOP", bad = "NO-SUCH-VERB" },
  imap = { ok = "NOOP", bad = "NO-SUCH-VERB" },
}

local function exercise(name, lib, mock)
  local s = lib.connect { port = mock.port, tls = false, ca_pem = mock.cert_pem }
  local caps = s:capabilities()
  assert(caps and caps.STARTTLS or caps.STLS, name .. ": the upgrade is offered in the clear")
  s:starttls { caps = false }
  assert(s.tls and s.tls.verified, name .. ": under TLS, verified")
  assert(s.caps == nil, name .. ": caps=false skipped the capability query")
  caps = s:capabilities()
  assert(type(caps.AUTH) == "table" and caps.AUTH.PLAIN, name .. ": caps.AUTH.PLAIN under TLS")

  -- auth with the same arguments everywhere
  s:auth("PLAIN", "alice", "secret")
  assert(s.authenticated, name .. ": authenticated")

  -- command(line, opts) with expect= as a success/failure spec
  local r = s:command(protocols[name].ok, { expect = true })
  assert(r, name .. ": command returns the reply")
  r = s:command(protocols[name].bad, { expect = false })
  assert(r, name .. ": expect=false accepts the refusal")
  local ok, err = pcall(s.command, s, protocols[name].bad)
  assert(not ok and err.exit == 1 and tostring(err):find("expected"), name .. ": a refusal fails: " .. tostring(err))
  assert(tostring(err):find("from 127%.0%.0%.1:"), name .. ": the failure names the peer: " .. tostring(err))

  -- pass-throughs: send, read_reply (nil and why on a timeout), on/off, expect
  local got, why = s:read_reply(0.2)
  assert(got == nil and why == "timeout", name .. ": read_reply gives nil, \"timeout\": " .. tostring(why))
  assert(s:on(".", function() end) == s and s:off() == s, name .. ": on/off return the session")
  s:send(protocols[name].ok)
  got = s:read_reply(5)
  assert(got ~= nil, name .. ": read_reply reads what came after send")

  -- a misspelled method names what exists
  ok, err = pcall(function() return s:qiut() end)
  assert(not ok and tostring(err):find("no method 'qiut' on an? %w+ session; did you mean 'quit'%?"),
    name .. ": misspelled method: " .. tostring(err))

  s:quit()
  print(name .. ": the vocabulary holds")
end

for _, name in ipairs { "smtp", "pop3", "imap" } do
  local mock = start(name)
  exercise(name, require("parley." .. name), mock)
  mock:stop()
end

-- A command's timeout reads the same in the three protocols.
local silent = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  while true do
    local c = silent:accept(20)
    if not c then return end
    spawn(function()
      local banner = { smtp = "220 x ESMTP", pop3 = "+OK x", imap = "* OK x" }
      c:send(banner[c:read_line(5) or "smtp"] or "220 x")
      sleep(5)
      c:close()
    end)
  end
end)
for _, name in ipairs { "smtp", "pop3", "imap" } do
  -- the server reads one line first (the protocol's name, sent raw) to pick its banner
  local conn = connect { host = "127.0.0.1", port = silent.port, timeout = 0.5 }
  conn:send(name)
  local s = require("parley." .. name).wrap(conn)
  local ok, err = pcall(s.command, s, "NOOP", { timeout = 0.3 })
  assert(not ok and tostring(err):find("NOOP: expected .*, but nothing came from 127%.0%.0%.1:%d+ within 0%.3 s"),
    name .. ": timeout message: " .. tostring(err))
  conn:close()
end

-- Old spellings keep working.
local smock = start("smtp")
local s = require("parley.smtp").connect { port = smock.port, helo = "me" }
assert(s:command("NOOP", "2xx").code == 250, "smtp command(line, expect)")
s:starttls { ehlo = false, ca_pem = smock.cert_pem }
assert(s.caps == nil, "ehlo=false still skips EHLO")
s:quit()
smock:stop()
local pmock = start("pop3")
local p = require("parley.pop3").connect { port = pmock.port }
p:stls { capa = false, ca_pem = pmock.cert_pem }
assert(p.caps == nil, "capa=false still skips CAPA")
p:quit()
pmock:stop()
print("old spellings work")

-- The mocks take the same option names: `capabilities` (SMTP also `extensions`) and
-- `advertise_starttls` (POP3 also `advertise_stls`).
local m1 = require("parley.mock.smtp").start { capabilities = { "PIPELINING", "SIZE 1000" } }
s = require("parley.smtp").connect { port = m1.port, helo = "me" }
assert(s.caps.SIZE == 1000 and not s.caps.STARTTLS, "smtp mock: capabilities=")
s:quit()
m1:stop()
local m2 = require("parley.mock.pop3").start { tls = "starttls", advertise_starttls = false }
p = require("parley.pop3").connect { port = m2.port }
assert(not p:capabilities().STLS, "pop3 mock: advertise_starttls=false")
p:quit()
m2:stop()
print("mock option names agree")
