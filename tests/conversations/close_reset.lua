-- close_reset.lua: c:close() ends a connection with the FIN exchange (the peer reads eof);
-- c:close{reset = true} with a TCP reset, as smtp-source ends its sessions (the peer's next
-- read fails with "connection reset"), and the transcript says so.
-- exit: 0
-- args: -v
-- stdout: plain close: eof
-- stdout: reset close: Connection reset by peer
-- stderr: \[[0-9]+\] === closed \(reset\)
-- within: 5

local srv = listen { host = "127.0.0.1", port = 0 }
local function peer_sees(how)
  local t = spawn(function()
    local s = srv:accept(2)
    assert(s:read_line(2) == "QUIT")
    local ok, line, why = pcall(s.read_line, s, 2)
    s:close()
    if ok then return tostring(why) end
    return tostring(line):match("Connection reset by peer") or tostring(line)
  end)
  local c = connect("127.0.0.1", srv.port)
  c:send("QUIT")
  sleep(0.05) -- the peer has read the line
  c:close(how)
  return t:join(3)
end
print("plain close: " .. peer_sees())
print("reset close: " .. peer_sees { reset = true })
srv:close()
