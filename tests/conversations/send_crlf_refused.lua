-- send_crlf_refused.lua: send() refuses a line holding CR or LF (it would smuggle a second
-- command) as a script error, exit 2, and nothing of it reaches the server. Through pcall
-- first for CR, then for real with LF.
-- exit: 2
-- args: --timeout 3
-- stderr: send_crlf_refused\.lua:[0-9]+: send: the line holds a LF at byte 5
-- stderr: use send_raw
-- stderr-not: RCPT
-- stdout: CR refused
-- within: 5

local srv = listen { host = "127.0.0.1", port = 0 }
local server = spawn(function()
  local c = srv:accept()
  local got = c:read_line(2)
  return got
end)

local c = connect("127.0.0.1", srv.port)
local ok, err = pcall(c.send, c, "NOOP\rRSET")
assert(not ok and err.exit == 2 and tostring(err):find("holds a CR at byte 5", 1, true),
  "CR should be refused: " .. tostring(err))
print("CR refused")
c:send("MAIL\nRCPT TO:<x@example.net>")
