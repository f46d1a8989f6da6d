--- The reports of `parley test`: the human one (a line per case, details of the failures),
-- TAP (with a YAML block per case), JUnit XML and JSON Lines. Pure: results in, text out.
-- Part of parley.testrun.
-- @module parley.testrun.report

local json = require "parley.json"

local M = {}

local MARK = { pass = "ok  ", fail = "FAIL", error = "ERR ", skip = "skip", timeout = "TIME" }

local function indent(text, prefix)
  return prefix .. tostring(text):gsub("\n", "\n" .. prefix)
end

local function human_line(r)
  local line = string.format("%s %s: %s (%.3f s)", MARK[r.status], r.file, r.name, r.seconds or 0)
  if r.status == "skip" then line = line .. " - " .. tostring(r.message) end
  return line
end

local function human_details(r)
  local out = { string.format("--- %s: %s [%s]", r.file, r.name, r.status) }
  out[#out + 1] = indent(r.message or "", "  ")
  if r.transcript and #r.transcript > 0 then
    out[#out + 1] = "  transcript (last lines):"
    out[#out + 1] = indent(r.transcript:gsub("\n$", ""), "    ")
  end
  local names = {}
  for k in pairs(r.captures) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do out[#out + 1] = "  captured " .. k .. " = " .. r.captures[k] end
  return table.concat(out, "\n")
end

local function yaml_block(r)
  local lines = { "  ---" }
  if r.message then lines[#lines + 1] = "  message: " .. json.encode(r.message) end
  lines[#lines + 1] = string.format("  seconds: %.3f", r.seconds or 0)
  if next(r.captures) then lines[#lines + 1] = "  captures: " .. json.encode(r.captures) end
  if r.transcript and #r.transcript > 0 then
    lines[#lines + 1] = "  transcript: |"
    lines[#lines + 1] = indent(r.transcript:gsub("\n$", ""), "    ")
  end
  lines[#lines + 1] = "  ..."
  return table.concat(lines, "\n")
end

local function xml(s)
  s = json.valid_utf8(tostring(s or ""))
  s = s:gsub("[%z\1-\8\11\12\14-\31]", "?")
  return (s:gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;", ["'"] = "&apos;" }))
end

local function junit(results, seconds)
  local suites, order = {}, {}
  for _, r in ipairs(results) do
    local s = suites[r.file]
    if not s then
      s = { cases = {}, tests = 0, failures = 0, errors = 0, skipped = 0, time = 0 }
      suites[r.file] = s
      order[#order + 1] = r.file
    end
    s.cases[#s.cases + 1] = r
    s.tests = s.tests + 1
    s.time = s.time + (r.seconds or 0)
    if r.status == "fail" or r.status == "timeout" then s.failures = s.failures + 1 end
    if r.status == "error" then s.errors = s.errors + 1 end
    if r.status == "skip" then s.skipped = s.skipped + 1 end
  end
  local t = { tests = 0, failures = 0, errors = 0, skipped = 0 }
  for _, s in pairs(suites) do
    for k in pairs(t) do t[k] = t[k] + s[k] end
  end
  local out = { '<?xml version="1.0" encoding="UTF-8"?>' }
  out[#out + 1] = string.format('<testsuites name="parley" tests="%d" failures="%d" errors="%d" skipped="%d" time="%.3f">',
    t.tests, t.failures, t.errors, t.skipped, seconds)
  for _, file in ipairs(order) do
    local s = suites[file]
    out[#out + 1] = string.format('  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d" time="%.3f">',
      xml(file), s.tests, s.failures, s.errors, s.skipped, s.time)
    for _, r in ipairs(s.cases) do
      out[#out + 1] = string.format('    <testcase classname="%s" name="%s" time="%.3f">',
        xml(file), xml(r.name), r.seconds or 0)
      if next(r.captures) then
        out[#out + 1] = "      <properties>"
        local names = {}
        for k in pairs(r.captures) do names[#names + 1] = k end
        table.sort(names)
        for _, k in ipairs(names) do
          out[#out + 1] = string.format('        <property name="%s" value="%s"/>', xml(k), xml(r.captures[k]))
        end
        out[#out + 1] = "      </properties>"
      end
      local first = xml((tostring(r.message or "")):match("^[^\n]*"))
      if r.status == "fail" or r.status == "timeout" then
        out[#out + 1] = string.format('      <failure message="%s" type="%s">%s</failure>', first, r.status, xml(r.message))
      elseif r.status == "error" then
        out[#out + 1] = string.format('      <error message="%s" type="error">%s</error>', first, xml(r.message))
      elseif r.status == "skip" then
        out[#out + 1] = string.format('      <skipped message="%s"/>', first)
      end
      if r.transcript and #r.transcript > 0 then
        out[#out + 1] = "      <system-out>" .. xml(r.transcript) .. "</system-out>"
      end
      out[#out + 1] = "    </testcase>"
    end
    out[#out + 1] = "  </testsuite>"
  end
  out[#out + 1] = "</testsuites>"
  return table.concat(out, "\n") .. "\n"
end

local function json_case(r)
  return json.encode { file = r.file, name = r.name, status = r.status,
    seconds = math.floor((r.seconds or 0) * 1000 + 0.5) / 1000,
    message = r.message, captures = r.captures, transcript = r.transcript }
end

M.human_line = human_line
M.human_details = human_details
M.yaml_block = yaml_block
M.junit = junit
M.json_case = json_case

return M
