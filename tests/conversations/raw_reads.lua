-- raw_reads.lua: the unchecked reads and raw writes. send_raw sends bytes exactly (no CRLF
-- added), read_line returns a line without its CRLF, read(n) returns exactly n bytes, read()
-- what is there, pending() counts buffered bytes, last_bytes() shows what came, and at the end
-- of the stream read_line / read_reply / read give nil, "eof" and is_open() turns false.
-- exit: 0
-- args: --timeout 5
-- stdout: raw reads ok
-- within: 8

local srv = listen { host = "127.0.0.1", port = 0 }
local server = spawn(function()
  local c = srv:accept()
  -- exact bytes from the client: "ab" then "c\r\n" then 5 bytes "\0\1\2\3\4"
  local line = c:read_line()
  assert(line == "abc", "send_raw pieces make one line: " .. tostring(line))
  local bin = c:read(5)
  assert(bin == "\0\1\2\3\4", "read(5) on the server got " .. #bin .. " bytes")
  c:send_raw("hello\r\nworld\r\n")
  c:send_raw("0123456789")
  assert(c:read_line() == "MORE")
  c:send_raw("tail without end")
  assert(c:read_line() == "DONE")
  c:close()
end)

local c = connect { host = "127.0.0.1", port = srv.port }
assert(c:is_open(), "open after connect")
c:send_raw("ab")
c:send_raw("c\r\n")
c:send_raw("\0\1\2\3\4")

assert(c:read_line() == "hello", "first line")
local w = c:read(3)
assert(w == "wor", "read(3): " .. tostring(w))
assert(c:read_line() == "ld", "rest of the line")
local ten = c:read(10)
assert(ten == "0123456789", "read(10): " .. tostring(ten))
assert(c:pending() == 0, "nothing buffered")
assert(c:last_bytes():find("0123456789$"), "last_bytes ends with what came: " .. c:last_bytes())

c:send("MORE")
local any = c:read()
assert(type(any) == "string" and #any >= 1 and ("tail without end"):sub(1, #any) == any,
  "read() returns what is there: " .. tostring(any))
local rest = any
while #rest < #"tail without end" do rest = rest .. c:read() end
assert(rest == "tail without end", "all of it: " .. rest)

-- nothing more for now: a short read times out without failing
local x, why = c:read(1, 0.2)
assert(x == nil and why == "timeout", "read(1, 0.2) times out: " .. tostring(why))
x, why = c:read_reply(0.2)
assert(x == nil and why == "timeout", "read_reply(0.2) times out: " .. tostring(why))

c:send("DONE")
server:join()
local l, e = c:read_line()
assert(l == nil and e == "eof", "read_line at the end: " .. tostring(l) .. " " .. tostring(e))
local r, e2 = c:read_reply()
assert(r == nil and e2 == "eof", "read_reply at the end: " .. tostring(e2))
local b, e3 = c:read(4)
assert(b == nil and e3 == "eof", "read at the end: " .. tostring(e3))
assert(not c:is_open(), "not open after the peer hung up and everything was read")
c:close()
assert(not c:is_open(), "not open after close")
print("raw reads ok")
