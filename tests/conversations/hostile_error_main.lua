-- hostile_error_main.lua: the script itself ends with an error object whose every field read
-- raises. parley used to format it outside a protected call and abort ("PANIC: unprotected
-- error in call to Lua API", exit 134); now it says the object cannot be shown, exit 2.
-- exit: 2
-- stderr: parley: \(an error object that cannot be shown: reading it raised an error: .*x
-- stderr-not: PANIC
-- within: 10
error(setmetatable({}, { __index = function() error("x") end }))
