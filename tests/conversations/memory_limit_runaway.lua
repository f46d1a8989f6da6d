-- memory_limit_runaway.lua: a script that allocates without end stops at --max-memory with a
-- clear error and exit 2 (not an abort, not the kernel's OOM killer), also when the memory
-- goes through parley's own functions (crypto, a spawned conversation); a script that catches
-- the error goes on, and the garbage of conversations that ended is collected (each one below
-- keeps 25 MB under a 64 MB limit).
-- exit: 2
-- args: --max-memory 64M --timeout 30
-- stdout: joined[[:space:]]false[[:space:]]not enough memory: the script's Lua memory reached the --max-memory limit \(64 MB\)
-- stdout: caught[[:space:]]not enough memory
-- stdout: rounds[[:space:]]5
-- stderr: ^parley: not enough memory: the script's Lua memory reached the --max-memory limit \(64 MB\)$
-- stderr-not: PANIC|internal error
-- within: 30
local crypto = require "parley.crypto"
local t = spawn(function()
  local parts = {}
  while true do parts[#parts + 1] = crypto.b64encode(string.rep("y", 1e5) .. #parts) end
end)
print("joined", pcall(t.join, t))
local ok, err = pcall(function()
  local x = {}
  while true do x[#x + 1] = string.rep("z", 1e5) .. #x end
end)
print("caught", ok and "nothing" or err)
local rounds = 0
for _ = 1, 5 do
  local task = spawn(function()
    local kept = {}
    for i = 1, 250 do kept[i] = string.rep("x", 1e5) .. i end
    return #kept
  end)
  assert(task:join() == 250)
  rounds = rounds + 1
end
print("rounds", rounds)
local forever = {}
while true do forever[#forever + 1] = string.rep("w", 1e5) .. #forever end
