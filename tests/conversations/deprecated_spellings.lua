-- deprecated_spellings.lua: old spellings keep working; under --strict each says once what to
-- write instead (smtp's command(line, expect), starttls{ehlo=false}).
-- exit: 0
-- args: --strict --timeout 5
-- stderr: warning: deprecated: smtp:command\(line, expect\) \(write smtp:command\(line, \{expect = \.\.\.\}\)\)
-- stderr: warning: deprecated: smtp starttls\{ehlo=\.\.\.\} \(write starttls\{caps=\.\.\.\}\)
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
print("old spellings work")
