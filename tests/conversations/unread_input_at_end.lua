-- unread_input_at_end.lua: input left unread on a connection the script never closed is a
-- warning when the run ends; with --strict the run fails (exit 1).
-- exit: 1
-- args: --strict --timeout 3
-- stderr: closed with 11 byte\(s\) unread: "250 extra\\r\\n" when the conversation ended
-- within: 5
local srv = listen {}
spawn(function()
  local c = srv:accept()
  c:send("220 hi")
  c:send("250 extra")
  sleep(2)
end)
local c = connect("127.0.0.1", srv.port)
c:expect(220)
sleep(0.2) -- the extra line arrives; the script ends without reading it
