-- show_secrets.lua: --show-secrets turns masking off: the transcript and print show the value.
-- exit: 0
-- args: --show-secrets --timeout 3
-- params: password=hunter2
-- stderr: -> PASS hunter2
-- stdout: shown: hunter2
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local s = srv:accept()
  s:read_line()
end)
local c = connect("127.0.0.1", srv.port)
c:send("PASS " .. args.password)
print("shown: " .. require("parley").reveal(args.password))
c:close()
