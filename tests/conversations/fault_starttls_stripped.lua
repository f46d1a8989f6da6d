-- fault_starttls_stripped.lua: mocks that can do TLS but do not advertise it (what a STARTTLS
-- stripping attacker leaves of the capability list). Asking for tls="starttls" fails with exit 3
-- for POP3 and IMAP (checked with pcall) and for SMTP (for real); nothing goes on in the clear.
-- exit: 3
-- args: --timeout 5
-- stderr: fault_starttls_stripped\.lua:[0-9]+: STARTTLS asked for but not offered
-- stderr-not: -> MAIL FROM
-- stderr-not: -> .*LOGIN
-- stderr-not: -> USER
-- stdout: pop3 and imap refused to go on in the clear
-- within: 5
local users = { alice = "pw" }
local mpop = require("parley.mock.pop3").start { tls = "starttls", advertise_stls = false, users = users }
local mimap = require("parley.mock.imap").start { tls = "starttls", advertise_starttls = false, users = users }
local msmtp = require("parley.mock.smtp").start { tls = "starttls", advertise_starttls = false, users = users }

local ok, err = pcall(function()
  local p = require("parley.pop3").connect { port = mpop.port, tls = "starttls" }
  p:login("alice", secret("pw"))
end)
assert(not ok and err.exit == 3, "pop3: " .. tostring(err))
ok, err = pcall(function()
  local i = require("parley.imap").connect { port = mimap.port, tls = "starttls" }
  i:login("alice", secret("pw"))
end)
assert(not ok and err.exit == 3, "imap: " .. tostring(err))
print("pop3 and imap refused to go on in the clear")

local s = require("parley.smtp").connect { port = msmtp.port, tls = "starttls" }
s:mail("alice@example.net")
