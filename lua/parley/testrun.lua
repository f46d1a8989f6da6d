--- The runner behind `parley test`: loads test files, runs their cases as conversations (files
-- concurrently with -j), and reports them as text, TAP, JSON Lines or JUnit XML.
--
-- A test file sees, besides parley's globals: `test(name, fn)`, `skip(reason)`,
-- `before(fn)`/`after(fn)` (around each case), `before_all(fn)`/`after_all(fn)` (once per
-- file), `capture(name, value)`, and the assertions `expect_eq`, `expect_ne`, `expect_match`,
-- `expect_true`, `expect_false`, `expect_error`. A file without `test` calls is one case.
-- @module parley.testrun

local parley = require "parley"
local json = require "parley.json"

local M = {}

local SKIP = { __name = "skip", __tostring = function(s) return "skipped: " .. s.reason end }

local function show(v)
  if type(v) == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  return tostring(v)
end

local function assertion(msg, text)
  parley.raise(1, "assert", (msg and (tostring(msg) .. ": ") or "") .. text)
end

--- The assertions a test file sees. Each fails the case (exit 1 kind) showing both sides.
M.assertions = {
  expect_eq = function(actual, expected, msg)
    if actual ~= expected then
      assertion(msg, "expected " .. show(expected) .. "\n  got      " .. show(actual))
    end
  end,
  expect_ne = function(actual, unexpected, msg)
    if actual == unexpected then assertion(msg, "expected anything but " .. show(unexpected)) end
  end,
  expect_match = function(text, pattern, msg)
    if type(text) ~= "string" or not text:find(pattern) then
      assertion(msg, "expected a match for pattern " .. show(pattern) .. "\n  in " .. show(text))
    end
  end,
  expect_true = function(v, msg)
    if not v then assertion(msg, "expected a true value, got " .. show(v)) end
  end,
  expect_false = function(v, msg)
    if v then assertion(msg, "expected a false value, got " .. show(v)) end
  end,
  expect_error = function(fn, pattern, msg)
    local ok, err = pcall(fn)
    if ok then assertion(msg, "expected an error, but the function returned") end
    if pattern and not tostring(err):find(pattern) then
      assertion(msg, "expected an error matching " .. show(pattern) .. "\n  got " .. show(tostring(err)))
    end
    return err
  end,
}

-- The globals of one test file: parley's, plus the test API bound to the file's state.
local function file_env(state)
  local env = setmetatable({}, { __index = _G })
  for k, f in pairs(M.assertions) do env[k] = f end
  env.test = function(name, fn)
    if type(name) ~= "string" or type(fn) ~= "function" then
      parley.raise(2, "script", "test(name, function) wants a name and a function")
    end
    state.cases[#state.cases + 1] = { name = name, fn = fn }
  end
  env.skip = function(reason) error(setmetatable({ reason = reason or "skipped" }, SKIP), 2) end
  for _, hook in ipairs { "before", "after", "before_all", "after_all" } do
    env[hook] = function(fn) table.insert(state[hook], fn) end
  end
  env.capture = function(name, value)
    if state.current then state.current.captures[tostring(name)] = tostring(value) end
    return value
  end
  return env
end
-- Exported for the test that keeps the editor definitions (lua-types/) in step.
M.file_env = file_env

local function classify(err, task_done)
  if type(err) == "table" and rawequal(getmetatable(err), SKIP) then return "skip", err.reason end
  if not task_done then return "timeout", nil end
  -- Read in a protected call: the error may be a table whose fields or __tostring raise.
  local text, exit = parley.describe_error(err)
  if type(err) == "table" and exit ~= 2 then return "fail", text end
  return "error", text
end

local function new_result(file, name)
  return { file = file, name = name, captures = {}, started = parley.clock() }
end

-- Runs `fn` as a conversation of its own, bounded by the case timeout; fills `result`.
-- Unless `keep_open`, what it left open is closed when it ends.
local function run_bounded(cfg, result, fn, keep_open)
  local task = spawn(fn)
  local ok, err = pcall(task.join, task, cfg.timeout)
  result.seconds = parley.clock() - result.started
  if ok then
    result.status = "pass"
  else
    local done = task:done()
    if not done then task:cancel("the case did not finish within its " .. cfg.timeout .. " s (--timeout)") end
    result.status, result.message = classify(err, done)
    if result.status == "timeout" then
      result.message = string.format("did not finish within %g s (--timeout)", cfg.timeout)
    end
  end
  if result.status ~= "pass" and result.status ~= "skip" then
    result.transcript = parley.transcript_of(task.id, cfg.transcript_lines)
  end
  -- What the case left open (connections, listeners, timers) closes with it, so that a long
  -- suite does not pile up sockets. Servers started by before_all belong to the file instead.
  if task:done() and not keep_open then task:cancel("the case ended") end
  parley.transcript_forget(task.id)
  return result, task
end

local function matches(cfg, file, name)
  return not cfg.filter or (file .. ": " .. name):find(cfg.filter) ~= nil
end

local function run_cases(cfg, state, report)
  for _, f in ipairs(state.before_all) do f() end
  for _, case in ipairs(state.cases) do
    if cfg.stop then break end
    if matches(cfg, state.file, case.name) then
      local result = new_result(state.file, case.name)
      state.current = result
      report(run_bounded(cfg, result, function()
        for _, f in ipairs(state.before) do f() end
        local ok, err = pcall(case.fn)
        for _, f in ipairs(state.after) do f() end
        if not ok then error(err, 0) end
      end))
    end
  end
  for _, f in ipairs(state.after_all) do f() end
end

local function base_name(path)
  return (path:match("([^/]+)$") or path)
end

-- Loads one file and runs what it holds; every outcome reaches `report`, load errors too.
local function run_file(cfg, path, report)
  local state = { file = path, cases = {}, before = {}, after = {}, before_all = {}, after_all = {} }
  local chunk, err = loadfile(path, "t", file_env(state))
  if not chunk and not path:find("%.lua$") then
    -- A transcript (a pasted telnet session, a parley or swaks transcript) is one case.
    local transcript = require "parley.transcript"
    local plan, why = transcript.load(path)
    if plan then
      chunk = function()
        transcript.run(plan, { args = parley.args, exact = cfg.exact })
      end
    else
      err = why
    end
  end
  if not chunk then
    local r = new_result(path, base_name(path))
    r.status, r.message, r.seconds = "error", err, 0
    return report(r)
  end
  -- The file's body runs as a conversation: a plain script is a case of its own.
  local body = new_result(path, base_name(path))
  state.current = body
  -- What the body opens (a listener, say) serves the cases: it stays open.
  local _, body_task = run_bounded(cfg, body, chunk, true)
  if #state.cases == 0 or body.status ~= "pass" then
    if body_task:done() then body_task:cancel("the file ended") end
    if #state.cases == 0 and not matches(cfg, path, body.name) then return end
    return report(body)
  end
  local ok, hook_err = pcall(run_cases, cfg, state, report)
  if not ok then
    local r = new_result(path, base_name(path) .. " (before_all/after_all)")
    r.status, r.message, r.seconds = classify(hook_err, true), tostring(hook_err), 0
    if r.status == "fail" then r.status = "error" end
    report(r)
  end
end

--------------------------------------------------------------------------------------------
-- Reporters (parley.testrun.report)

local report_mod = require "parley.testrun.report"
local human_line, human_details = report_mod.human_line, report_mod.human_details
local yaml_block, junit, json_case = report_mod.yaml_block, report_mod.junit, report_mod.json_case

--------------------------------------------------------------------------------------------

local function counts(results)
  local c = { pass = 0, fail = 0, error = 0, skip = 0, timeout = 0 }
  for _, r in ipairs(results) do c[r.status] = c[r.status] + 1 end
  return c
end

--- Runs a suite. `cfg`: files (array of paths), format ("human", "tap", "json"), junit (path
-- or nil), jobs, filter (Lua pattern on "file: name"), fail_fast, timeout (per case),
-- progress (print each case as it finishes), transcript_lines.
-- Sets the exit status: 0 all passed or skipped, 1 a case failed or timed out, 2 an error.
function M.main(cfg)
  cfg.jobs = math.max(1, cfg.jobs or 1)
  cfg.transcript_lines = cfg.transcript_lines or 30
  local started = parley.clock()
  local results = {}
  local out = io.stdout
  if cfg.format == "tap" or cfg.format == "json" then
    -- stdout carries the report alone: what tests print (print, io.write) goes to stderr.
    local write = io.stderr
    rawset(_G, "print", function(...)
      local n = select("#", ...)
      local parts = {}
      for i = 1, n do parts[i] = parley.mask(tostring((select(i, ...)))) end
      write:write(table.concat(parts, "\t", 1, n), "\n")
    end)
    io.output(io.stderr)
  end
  if cfg.format == "tap" then out:write("TAP version 13\n") end
  local function report(r)
    -- What a case shows (its message, a server's reply quoted in it, its captures) is masked
    -- once here, for every format; the transcript lines were masked as they were taken.
    r.name = parley.mask(r.name)
    if r.message ~= nil then r.message = parley.mask(tostring(r.message)) end
    for k, v in pairs(r.captures) do r.captures[k] = parley.mask(v) end
    results[#results + 1] = r
    if cfg.fail_fast and (r.status == "fail" or r.status == "error" or r.status == "timeout") then
      cfg.stop = true
    end
    if cfg.format == "tap" then
      local ok = (r.status == "pass" or r.status == "skip") and "ok" or "not ok"
      local line = string.format("%s %d - %s: %s", ok, #results, r.file, r.name)
      if r.status == "skip" then line = line .. " # SKIP " .. tostring(r.message) end
      out:write(line, "\n")
      if r.status ~= "pass" then out:write(yaml_block(r), "\n") end
    elseif cfg.format == "json" then
      out:write(json_case(r), "\n")
    elseif cfg.progress then
      out:write(human_line(r), "\n")
    end
    out:flush()
  end

  local next_file = 1
  local function worker()
    while not cfg.stop do
      local i = next_file
      next_file = i + 1
      if i > #cfg.files then return end
      run_file(cfg, cfg.files[i], report)
    end
  end
  local workers = {}
  for k = 1, math.min(cfg.jobs, math.max(1, #cfg.files)) do workers[k] = spawn(worker) end
  for _, w in ipairs(workers) do w:join(math.huge) end

  local seconds = parley.clock() - started
  local c = counts(results)
  local failed = c.fail + c.error + c.timeout
  if cfg.format == "tap" then
    out:write(string.format("1..%d\n", #results))
  elseif cfg.format == "json" then
    out:write(json.encode { summary = true, passed = c.pass, failed = c.fail, errors = c.error,
      timeouts = c.timeout, skipped = c.skip, total = #results,
      seconds = math.floor(seconds * 1000 + 0.5) / 1000 }, "\n")
  else
    if not cfg.progress then
      for _, r in ipairs(results) do out:write(human_line(r), "\n") end
    end
    for _, r in ipairs(results) do
      if r.status ~= "pass" and r.status ~= "skip" then out:write("\n", human_details(r), "\n") end
    end
    out:write(string.format("\n%d passed, %d failed, %d skipped\n", c.pass, failed, c.skip))
    if failed > 0 then
      out:write(string.format("(%d failed, %d errors, %d timed out) in %.2f s\n",
        c.fail, c.error, c.timeout, seconds))
    end
  end
  if cfg.junit then
    local f, err = io.open(cfg.junit, "w")
    if not f then
      io.stderr:write("parley: cannot write " .. cfg.junit .. ": " .. tostring(err) .. "\n")
      parley.set_exit(2)
      return
    end
    f:write(junit(results, seconds))
    f:close()
  end
  if #results == 0 then
    io.stderr:write("parley: no test ran (no file, or --filter matched nothing)\n")
    parley.set_exit(2)
  elseif c.error > 0 then
    parley.set_exit(2)
  elseif failed > 0 then
    parley.set_exit(1)
  else
    parley.set_exit(0)
  end
end

return M
