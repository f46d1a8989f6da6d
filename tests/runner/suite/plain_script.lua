-- A plain conversation script (no test calls) counts as one case.
local srv = listen {}
spawn(function() srv:accept():send("220 plain") end)
connect("127.0.0.1", srv.port):expect(220)
