-- deprecated_spellings.lua: old spellings keep working; under --strict each says once what to
-- write instead (smtp's command(line, expect), starttls{ehlo=false}, the mock options
-- extensions= and advertise_stls=).
-- exit: 0
-- args: --strict --timeout 5
-- stderr: warning: deprecated: smtp:command\(line, expect\) \(write smtp:command\(line, \{expect = \.\.\.\}\)\)
-- stderr: warning: deprecated: smtp starttls\{ehlo=\.\.\.\} \(write starttls\{caps=\.\.\.\}\)
-- stderr: warning: deprecated: mock smtp option extensions= \(write capabilities=\)
-- stderr: warning: deprecated: mock pop3 option advertise_stls= \(write advertise_starttls=\)
-- stdout: old spellings work
-- within: 8
local m = require("parley.mock.smtp").start { tls = "starttls" }
local s = require("parley.smtp").connect { port = m.port, helo = "me" }
assert(s:command("NOOP", "2xx").code == 250)
assert(s:command("NOOP", 250).code == 250)
s:starttls { ehlo = false, ca_pem = m.cert_pem }
assert(s.caps == nil, "ehlo=false skipped EHLO")
s:quit()
m:stop()

-- The mocks' old option names: the SMTP mock's extensions=, the POP3 mock's advertise_stls=.
local m2 = require("parley.mock.smtp").start { extensions = { "SIZE 1000", "X-OLD-NAME" } }
local s2 = require("parley.smtp").connect { port = m2.port }
s2:ehlo("me")
assert(s2.caps["X-OLD-NAME"] and s2.caps.SIZE == 1000, "extensions= still lists what EHLO says")
s2:quit()
m2:stop()
local m3 = require("parley.mock.pop3").start { tls = "starttls", advertise_stls = false }
local p = require("parley.pop3").connect { port = m3.port }
assert(not p:capabilities().STLS, "advertise_stls=false still hides STLS")
p:quit()
m3:stop()
print("old spellings work")
