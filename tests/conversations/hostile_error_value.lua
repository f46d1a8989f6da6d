-- hostile_error_value.lua: an error that is not a table, whose type's __tostring raises, under
-- -v (where the message gets a traceback): exit 2 with a message, never an abort.
-- exit: 2
-- args: -v
-- stderr: parley: \(an error object that cannot be shown: reading it raised an error: .*tostring
-- stderr: stack traceback
-- stderr-not: PANIC
-- within: 10
debug.setmetatable(true, { __tostring = function() error("tostring") end })
error(true)
