-- names_suggested.lua: a misspelled method of a protocol session names what exists ("did you
-- mean"), and a module that does not exist lists parley's modules instead of every path
-- searched. Fields that a session may hold read as nil before they are set.
-- exit: 2
-- args: --timeout 5
-- stdout: method: no method 'recpt' on an SMTP session; did you mean 'rcpt'\?
-- stderr: names_suggested\.lua:[0-9]+: module 'parley\.smpt' not found; did you mean 'parley\.smtp'\?
-- stderr: parley's modules: .*parley\.imap.*parley\.pop3.*parley\.smtp
-- stderr-not: parley's modules: .*parley\.smtp\.submit
-- stderr-not: no file '
-- stderr-not: package\.preload
-- within: 8

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local c = srv:accept()
  c:send("220 mx.test ESMTP")
  c:read_line(3)
end)
local s = require("parley.smtp").connect { port = srv.port }
assert(s.caps == nil and s.authenticated == nil, "known fields read as nil before they are set")
local ok, err = pcall(function() s:recpt("bob@example.net") end)
assert(not ok and err.exit == 2, "a misspelled method is a script error: " .. tostring(err))
print("method: " .. err.message:match("^[^\n]*"))
assert(err.message:find("its methods: .*rcpt"), "the methods are listed: " .. err.message)
s:close()

require "parley.smpt"
