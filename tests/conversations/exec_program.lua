-- exec_program.lua: exec{} talks to a program over its stdin/stdout with the same methods:
-- expect its greeting, send a line it reads, expect its answer built from that line, see it
-- end (eof). framing= and timeout= options apply.
-- exit: 0
-- args: --timeout 3
-- stdout: exec ok
-- stderr: === started sh -c
-- within: 5

local c = exec { "sh", "-c", "echo 220 hi; read l; echo 221 bye $l" }
assert(c.framing == "smtp", "exec defaults to smtp framing")
local r = c:expect(220)
assert(r.text == "hi", "greeting text: " .. r.text)
c:send("QUIT")
r = c:expect(221)
assert(r.text == "bye QUIT", "the program read our line: " .. r.text)
local x, why = c:read_reply()
assert(x == nil and why == "eof", "the program ended: " .. tostring(why))
c:close()

-- framing and timeout options
local d = exec { "sh", "-c", "printf '250-not a continuation\\n'; exec sleep 5", framing = "line", timeout = 0.3 }
assert(d.framing == "line" and d.timeout == 0.3, "options")
local l = d:expect("^250%-not")
assert(l.code == nil, "line framing: no codes")
local y, why2 = d:read_line()
assert(y == nil and why2 == "timeout", "timeout=0.3 applies: " .. tostring(why2))
d:close()
print("exec ok")
