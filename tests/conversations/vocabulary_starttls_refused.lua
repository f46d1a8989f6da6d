-- vocabulary_starttls_refused.lua: a refused upgrade is the same in the three sessions
-- (docs/vocabulary.md): starttls{expect=false} returns the refusal and the session goes on in
-- the clear, as the script asked; starttls{expect=true} and a plain starttls() end with exit 3
-- ("refused", never going on in the clear). The mocks refuse STARTTLS / STLS through a hook.
-- exit: 3
-- args: --timeout 10
-- stdout: smtp: the refusal is returned: 454
-- stdout: pop3: the refusal is returned: -ERR
-- stdout: imap: the refusal is returned: NO
-- stdout: smtp: expect=true: exit 3
-- stdout: pop3: expect=true: exit 3
-- stdout: imap: expect=true: exit 3
-- stderr: vocabulary_starttls_refused\.lua:[0-9]+: STARTTLS refused by 127\.0\.0\.1:[0-9]+
-- stderr-not: stack traceback
-- within: 20

local refusals = {
  smtp = { verb = "STARTTLS", line = "454 4.7.0 TLS not available today", ok = "NOOP" },
  pop3 = { verb = "STLS", line = "-ERR TLS not available today", ok = "NOOP" },
  imap = { verb = "STARTTLS", line = "NO TLS not available today", ok = "NOOP" },
}

local sessions = {}
for _, name in ipairs { "smtp", "pop3", "imap" } do
  local p = refusals[name]
  local mock = require("parley.mock." .. name).start {
    tls = "starttls", on = { [p.verb] = function() return p.line end },
  }
  local lib = require("parley." .. name)

  -- expect=false: the refusal is what this script wants; no handshake, the session goes on.
  local s = lib.connect { port = mock.port, ca_pem = mock.cert_pem }
  local r = s:starttls { expect = false }
  assert(type(r) == "table", name .. ": starttls returns the refusal")
  assert(s.tls == nil, name .. ": no handshake happened")
  print(name .. ": the refusal is returned: " .. (r.code and tostring(r.code) or r.status))
  assert(s:command(p.ok, { expect = true }), name .. ": the session goes on in the clear")

  -- expect=true wants the upgrade: a refusal is a security failure (exit 3).
  local ok, err = pcall(s.starttls, s, { expect = true })
  assert(not ok and type(err) == "table", name .. ": expect=true fails on a refusal")
  print(name .. ": expect=true: exit " .. tostring(err.exit))
  sessions[#sessions + 1] = lib.connect { port = mock.port, ca_pem = mock.cert_pem }
end

-- Without expect=: exit 3 for the run, with the script's line.
sessions[1]:starttls()
print("not reached")
