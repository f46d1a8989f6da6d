-- Waits longer than parley load's --timeout for a greeting that never comes.
local c = connect("127.0.0.1", args.port)
step("greeting", function() c:expect(220, 30) end)
