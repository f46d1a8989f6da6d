-- scripts/bench (4): one idle conversation: connected, waiting in expect for a greeting that
-- never comes, for `wait` seconds.
local c = connect("127.0.0.1", args.port)
c:expect({ { 220 }, timeout = function() end }, tonumber(args.wait or 3))
c:close()
