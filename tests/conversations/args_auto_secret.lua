-- args_auto_secret.lua: NAME=VALUE pairs after the script arrive in `args`; a name containing
-- pass, secret, token or key (any case) registers the value as a secret without asking; every
-- value stays a plain string. The secret goes over the wire as is and is masked in the
-- transcript; secrets under 6 bytes get a warning (they are masked only in what parley sends).
-- exit: 0
-- args: --timeout 3
-- params: user=alice password=hunter2 API_TOKEN=tok-xyz apikey=k-123 client_secret=cs-9 host=mx.test
-- stdout: args ok
-- stderr: -> USER alice
-- stderr: -> PASS \*\*\*\*
-- stderr-not: hunter2
-- stderr: warning: a secret of [45] bytes is too short to mask everywhere
-- within: 4

assert(args.user == "alice" and type(args.user) == "string", "plain arg")
assert(args.host == "mx.test", "plain arg host")
for _, name in ipairs { "password", "API_TOKEN", "apikey", "client_secret" } do
  local v = args[name]
  assert(v ~= nil, name .. " is given")
  assert(type(v) == "string" and require("parley").is_secret(v), name .. " is a registered string")
end
assert(not require("parley").is_secret(args.user), "user is not a secret")
assert(args.password == "hunter2" and #args.password == 7, "the value itself")

local srv = listen { host = "127.0.0.1", port = 0 }
local server = spawn(function()
  local s = srv:accept()
  s:send("+OK ready")
  local u = s:read_line()
  s:send("+OK")
  local p = s:read_line()
  s:send("+OK welcome")
  return u, p
end)

local c = connect { host = "127.0.0.1", port = srv.port, framing = "pop3" }
c:expect("^")
c:send("USER " .. args.user)
c:expect("^")
c:send("PASS " .. args.password)
local r = c:read_reply()
assert(r.ok == true, "pop3 +OK")
local u, p = server:join()
assert(u == "USER alice", u)
assert(p == "PASS hunter2", "the password went over the wire: " .. p)
print("args ok")
