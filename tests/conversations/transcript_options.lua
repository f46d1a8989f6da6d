-- transcript_options.lua: what the transcript shows. A client connection shows both directions
-- with " ->" and "<-"; connect{transcript=false} hides a connection; listen{transcript=true}
-- shows the server's side (lines prefixed with the connection number, the client's words as
-- " ->" and the server's as "<-") without -v, while a listener without it stays silent.
-- exit: 0
-- args: --timeout 3
-- stderr: -> VISIBLE
-- stderr: <- 250 seen
-- stderr: \[[0-9]+\]  -> VISIBLE
-- stderr: \[[0-9]+\] <- 250 seen
-- stderr: \[[0-9]+\] .*accepted 127\.0\.0\.1:[0-9]+
-- stderr-not: HIDDEN
-- stderr-not: 251 unseen
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0, transcript = true }
local quiet = listen { host = "127.0.0.1", port = 0 }
for _, l in ipairs { srv, quiet } do
  spawn(function()
    local s = l:accept()
    local line = s:read_line()
    s:send(line == "VISIBLE" and "250 seen" or "251 unseen")
    s:read_line(1)
  end)
end
local c = connect("127.0.0.1", srv.port)
c:send("VISIBLE")
c:expect(250)
c:close()
local h = connect { host = "127.0.0.1", port = quiet.port, transcript = false }
h:send("HIDDEN")
h:expect(251)
h:close()
