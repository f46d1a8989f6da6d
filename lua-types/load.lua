---@meta parley.load
-- lua-language-server definitions of parley.load. Reference: docs/load.md.

---@class parley.load.Info
---@field thread integer
---@field threads integer
---@field shard integer
---@field shards integer
---@field concurrency integer
---@field count integer

---@class parley.load
local load = {}

--- Facts about the run under `parley load`, nil otherwise.
---@type parley.load.Info?
load.info = nil

--- Runs `fn(...)` as the step `name` of the conversation and returns what it returns. Steps may
--- nest; a step that raises an error is counted as failed (with the error's cause).
---@param name string the step's name in the report
---@param fn fun(...): ... the function to time
---@param ... any
---@return any ...
function load.step(name, fn, ...) end

--- Declares the run's pass/fail criteria, as `parley load --threshold EXPR` does:
--- `load.thresholds { "p99<50ms", "p95(step=rcpt)<10ms", "failed<1%", "throughput>500" }`.
--- `parley load` exits 1 when one is missed; a malformed one is a script error. Outside
--- `parley load` it does nothing.
---@param list string[] the expressions
function load.thresholds(list) end

return load
