--- Named steps and run facts for `parley load`.
--
-- `parley load` calls the script once per conversation (as a function: `...` is the
-- conversation's number, unique in the run). A script names the parts it wants timed:
--
--     local c = step("connect", connect, args.host, args.port)
--     step("greeting", function() c:expect(220) end)
--     step("ehlo", function() c:send("EHLO me"); c:expect(250) end)
--
-- Each step gets its own latency percentiles in the report, and a conversation that fails
-- inside a step is counted under that step. Outside `parley load` (in `parley run`, say) a
-- step just calls its function, so the same script runs once with a transcript to debug it.
-- `step` is also a global.
-- @module parley.load

local parley = require "parley"

local M = {}

--- Facts about the run, under `parley load` (nil otherwise): `thread` and `threads` (this
-- engine's number, from 1, and how many run in this process), `shard` and `shards` (from
-- `--shard I/N`, else 1 and 1), `concurrency` (this engine's share), `count` (its share of
-- `-n`, when given).
M.info = nil

local hooks = nil

--- Runs `fn(...)` as the step `name` of the conversation and returns what it returns.
-- Steps may nest; a step that raises an error is counted as failed (with the error's cause).
-- The global `step` itself, in C (src/script/bind_core.cpp): a conversation waiting inside a
-- step is no deeper in its coroutine's stack than one waiting inside a plain function call
-- (memory per idle conversation).
-- @param name the step's name in the report
-- @param fn the function to time
M.step = parley.step

local declared = {}

--- Declares the run's pass/fail criteria, as `parley load --threshold EXPR` does:
-- `load.thresholds { "p99<50ms", "p95(step=rcpt)<10ms", "failed<1%", "throughput>500" }`.
-- `parley load` exits 1 when one is missed and its report says which and by how much; a
-- malformed expression is a script error. Outside `parley load` it does nothing.
-- @param list the expressions (strings)
function M.thresholds(list)
  if type(list) ~= "table" then
    parley.raise(2, "script", "thresholds: a list of expressions, e.g. { \"p99<50ms\" }")
  end
  for i, expr in ipairs(list) do
    if type(expr) ~= "string" then
      parley.raise(2, "script", "thresholds: item " .. i .. " is not a string")
    end
    if hooks ~= nil and not declared[expr] then
      hooks.threshold(expr)
      declared[expr] = true
    end
  end
end

--- Called by `parley load` before the first conversation: the timing hooks, the run facts,
-- and `print` to stderr (stdout carries the report).
function M._setup(h, info)
  hooks = h
  M.info = info
  function print(...)
    local n = select("#", ...)
    local parts = {}
    for i = 1, n do parts[i] = parley.mask(tostring((select(i, ...)))) end
    io.stderr:write(table.concat(parts, "\t"), "\n")
  end
end

--- The run's main conversation: waits while `parley load` runs the conversations.
function M._drive()
  return hooks.drive()
end

return M
