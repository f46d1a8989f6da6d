-- spawn_unjoined_failure.lua: a spawned conversation that fails while nobody joins it is
-- reported on stderr (with its message and line) and makes the run's exit status non-zero, even
-- though the main script ends normally.
-- exit: 1
-- args: --timeout 3
-- stderr: spawned conversation [0-9]+ failed: .*spawn_unjoined_failure\.lua:[0-9]+: the mock lost its temper
-- stdout: main done
-- within: 4

spawn(function()
  sleep(0.05)
  fail("the mock lost its temper")
end)
sleep(0.2)
print("main done")
