-- exec_missing_program.lua: exec of a program that does not exist is a failure that names the
-- program (not a hang, not a crash).
-- exit: 3
-- args: --timeout 2
-- stderr: /nonexistent/parley-no-such-program
-- within: 3

local c = exec { "/nonexistent/parley-no-such-program", "-bs" }
c:expect(220)
