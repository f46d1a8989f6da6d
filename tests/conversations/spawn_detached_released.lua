-- spawn_detached_released.lua: a conversation spawned and never joined is forgotten once it
-- ends and its handle is gone, results included, so a server that spawns one per client does
-- not grow without end. 2,000 tasks each returning 50 KB would pin 100 MB otherwise.
-- exit: 0
-- args: --timeout 20
-- stdout: memory stayed bounded
-- within: 30
for round = 1, 20 do
  for _ = 1, 100 do
    spawn(function() return string.rep("x", 50 * 1024) .. round end)
  end
  sleep(0.01) -- let them run and finish
  collectgarbage()
  collectgarbage()
end
sleep(0.05)
collectgarbage()
collectgarbage()
local kb = collectgarbage("count")
assert(kb < 20 * 1024, ("Lua holds %.0f KB after 2,000 finished tasks"):format(kb))
print("memory stayed bounded: " .. math.floor(kb) .. " KB")
