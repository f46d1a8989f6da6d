-- silent_server_timeout.lua: a server that accepts and says nothing. With --timeout 1 the
-- expect for the greeting fails (exit 1) after about a second, saying nothing came from whom
-- within how long; the run does not hang on the spawned server either.
-- exit: 1
-- args: --timeout 1
-- stderr: silent_server_timeout\.lua:[0-9]+: expected 220, but nothing came from 127\.0\.0\.1:[0-9]+ within 1 s
-- stderr: waited (0\.9[0-9]{2}|1\.[0-9]{3}) s of the 1 s timeout
-- stderr-not: last bytes received
-- within: 5

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local c = srv:accept()
  sleep(30) -- silent; stopped when the main script ends
  c:close()
end)

local c = connect("127.0.0.1", srv.port)
c:expect(220)
