-- codes_success_class.lua: what a code means depends on its class. A script that wanted AUTH
-- refused gets "235 2.7.0": the failure explains 2.7.0 as a security step that went well,
-- not as "other or undefined security or policy problem" (RFC 3463: X.7.0 is "other or
-- undefined security status"; with class 2 it is a success). The refusal 535 5.7.0 still reads
-- as a problem.
-- exit: 1
-- args: --timeout 4
-- stderr: meaning: 235: authentication succeeded; 2\.7\.0: security: ok
-- stderr-not: 2\.7\.0: other or undefined security or policy problem
-- stdout: 535 5\.7\.0: .*security or policy problem
-- stdout: 250 2\.1\.0: .*2\.1\.0: address: ok
-- within: 8

local codes = require "parley.codes"
print("535 5.7.0: " .. codes.meaning { code = 535, enhanced = "5.7.0" })
print("250 2.1.0: " .. codes.meaning { code = 250, enhanced = "2.1.0" })

local smtp = require "parley.smtp"
local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local c = srv:accept()
  c:send("220 mx.test ESMTP")
  c:read_line()
  c:send("250-mx.test")
  c:send("250 AUTH PLAIN")
  c:read_line()
  c:send("235 2.7.0 Authentication successful")
  c:read_line(3)
end)

local s = smtp.connect { host = "127.0.0.1", port = srv.port }
s:ehlo("client.test")
s:command("AUTH PLAIN AGFsaWNlAHdyb25n", { expect = "5xx" })  -- a wrong password must be refused
print("not reached")
