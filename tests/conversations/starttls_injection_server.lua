-- starttls_injection_server.lua: the injection defence on the server side. A client pipelines
-- "STARTTLS" and "MAIL FROM" in one write; the server's starttls{} refuses with exit 3 because
-- plaintext is buffered; the spawned server's failure reaches the main script through join.
-- exit: 3
-- args: --timeout 5
-- stderr: STARTTLS refused: .*127\.0\.0\.1:[0-9]+
-- stderr: MAIL FROM:<evil@example\.net>
-- within: 6

local srv = listen { host = "127.0.0.1", port = 0, tls = "starttls" }
local server = spawn(function()
  local s = srv:accept()
  s:send("220 ready")
  local l = s:read_line()
  assert(l == "STARTTLS", "got " .. tostring(l))
  sleep(0.1)
  s:send("220 go")
  s:starttls {}
  fail("the server should have refused STARTTLS")
end)

local c = connect("127.0.0.1", srv.port)
c:expect(220)
c:send_raw("STARTTLS\r\nMAIL FROM:<evil@example.net>\r\n")
server:join()
