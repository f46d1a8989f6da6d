-- set_framing_line.lua: framing decides what a reply is. Under "smtp" "250-a" continues a
-- reply; after set_framing("line") every line is its own reply with no code, and patterns see
-- the whole line; connect{framing="line"} starts that way; set_framing("smtp") goes back; an
-- unknown framing is refused.
-- exit: 0
-- args: --timeout 3
-- stdout: framing ok
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local s = srv:accept()
  s:send_raw("250-first\r\n250 second\r\n")
  s:read_line()
  s:send_raw("250-first\r\n250 second\r\n")
  s:read_line()
  s:send_raw("250-again\r\n250 smtp\r\n")
  s:read_line()
  s:close()
  local t = srv:accept()
  t:send("* OK [CAPABILITY IMAP4rev1] hello")
  t:read_line(2)
end)

local c = connect("127.0.0.1", srv.port)
local r = c:expect(250)
assert(#r.lines == 2, "smtp framing: one reply of two lines")

c:set_framing("line")
assert(c.framing == "line", "c.framing follows set_framing")
c:send("NEXT")
r = c:expect("^250%-first$")
assert(r.code == nil and r.text == "250-first", "line framing: whole line, no code")
r = c:read_reply()
assert(r.text == "250 second" and #r.lines == 1, "second line is its own reply")

c:set_framing("smtp")
c:send("NEXT")
r = c:expect(250)
assert(r.text == "again\nsmtp", "back to smtp framing")

local ok, err = pcall(c.set_framing, c, "gopher")
assert(not ok and tostring(err):find("unknown framing"), "unknown framing refused: " .. tostring(err))
c:send("BYE")
c:close()

local d = connect { host = "127.0.0.1", port = srv.port, framing = "line" }
assert(d.framing == "line")
r = d:expect("^%* OK %[CAPABILITY")
assert(r.text == "* OK [CAPABILITY IMAP4rev1] hello")
d:close()
print("framing ok")
