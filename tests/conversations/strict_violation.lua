-- strict_violation.lua: --strict turns protocol-grammar violations into failures: a reply line
-- ended by a bare LF fails the expect that reads it (exit 1) with "protocol violation
-- (--strict)", the reply and the reason, although its code is the one expected.
-- exit: 1
-- args: --strict --timeout 3
-- stderr: strict_violation\.lua:[0-9]+: protocol violation \(--strict\) in reply "250 bare lf" from 127\.0\.0\.1:[0-9]+: .*bare LF
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local s = srv:accept()
  s:send("220 clean")
  s:send_raw("250 bare lf\n")
  s:read_line(2)
end)
local c = connect("127.0.0.1", srv.port)
c:expect(220)
c:expect(250)
