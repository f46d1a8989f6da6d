--- Helpers of the parley load tests: an SMTP server played by the test itself, running
-- `parley load` (this same binary) as a child process, and reading its JSON.
-- @module helpers

local parley = require "parley"

local M = {}

--- The folder of the test files (clients/ is below it).
M.dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."

--- A small SMTP server: every connection gets a handler conversation. For RCPT TO:<rN@...>,
-- `opts.refuse(n)` says whether to answer 550 and `opts.hangup(n)` whether to hang up
-- instead; with `opts.silent` it accepts and says nothing; `opts.delay` seconds pass before
-- each greeting. Returns the listener and a table
-- of what it saw: `connections`, `recipients` (the numbers N), `messages`.
function M.smtp_server(opts)
  opts = opts or {}
  local srv = listen { host = "127.0.0.1", port = 0 }
  local seen = { connections = 0, recipients = {}, messages = 0 }
  local function handle(c)
    seen.connections = seen.connections + 1
    if opts.silent then
      c:read_line(30)
      return
    end
    if opts.delay then sleep(opts.delay) end
    c:send("220 test.example ESMTP")
    while true do
      local line = c:read_line(30)
      if not line then return end
      local verb = (line:match("^(%a+)") or ""):upper()
      if verb == "EHLO" or verb == "HELO" then
        c:send("250 test.example")
      elseif verb == "MAIL" then
        c:send("250 2.1.0 ok")
      elseif verb == "RCPT" then
        local n = tonumber(line:match("<r(%d+)@"))
        if n then seen.recipients[#seen.recipients + 1] = n end
        if opts.hangup and n and opts.hangup(n) then
          c:close()
          return
        elseif opts.refuse and n and opts.refuse(n) then
          c:send("550 5.1.1 <r" .. n .. "@test.example>: no such user")
        else
          c:send("250 2.1.5 ok")
        end
      elseif verb == "DATA" then
        c:send("354 go on")
        repeat
          local l = c:read_line(30)
        until l == nil or l == "."
        seen.messages = seen.messages + 1
        c:send("250 2.0.0 queued")
      elseif verb == "QUIT" then
        c:send("221 2.0.0 bye")
        c:close()
        return
      else
        c:send("502 5.5.2 what?")
      end
    end
  end
  spawn(function()
    while true do
      local ok, c = pcall(srv.accept, srv, 60)
      if not ok then return end
      spawn(function() pcall(handle, c) end)
    end
  end)
  return srv, seen
end

--- This parley binary's path (the shell io.popen starts is our child: $PPID is us).
function M.exe()
  if not M._exe then
    local p = io.popen("readlink /proc/$PPID/exe")
    M._exe = p:read("l")
    p:close()
  end
  return M._exe
end

--- Runs `parley ARGS...` as a child (through exec{}, so that a server played by this script
-- keeps answering) and returns its stdout (with `stderr_too`, stdout and stderr) and its exit
-- status.
function M.parley(argv, timeout, stderr_too)
  local cmd = { "sh", "-c", '"$0" "$@"' .. (stderr_too and " 2>&1" or "") .. '; echo "[exit $?]"',
    M.exe() }
  for _, a in ipairs(argv) do cmd[#cmd + 1] = a end
  cmd.framing = "line"
  local p = exec(cmd)
  local out = {}
  local deadline = parley.clock() + (timeout or 60)
  while true do
    local chunk, why = p:read(0, math.max(0.01, deadline - parley.clock()))
    if not chunk then
      assert(why == "eof", "parley " .. table.concat(argv, " ") .. ": " .. tostring(why))
      break
    end
    out[#out + 1] = chunk
  end
  p:close()
  local text = table.concat(out)
  local body, status = text:match("^(.-)%[exit (%d+)%]\n$")
  assert(body, "no exit status in: " .. text)
  return body, tonumber(status)
end

--- The machine's cores, as parley load counts them for --threads auto.
function M.cores()
  local p = assert(io.popen("nproc"))
  local n = tonumber(p:read("l"))
  p:close()
  return n
end

--- A minimal JSON decoder (enough for parley load's results).
function M.decode(text)
  local pos = 1
  local function space() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local c = text:sub(pos, pos)
      if c == '"' then pos = pos + 1; return table.concat(out) end
      if c == "\\" then
        local e = text:sub(pos + 1, pos + 1)
        local map = { n = "\n", r = "\r", t = "\t", b = "\b", f = "\f" }
        if e == "u" then
          out[#out + 1] = utf8.char(tonumber(text:sub(pos + 2, pos + 5), 16))
          pos = pos + 6
        else
          out[#out + 1] = map[e] or e
          pos = pos + 2
        end
      else
        assert(c ~= "", "unterminated string")
        out[#out + 1] = c
        pos = pos + 1
      end
    end
  end
  function value()
    space()
    local c = text:sub(pos, pos)
    if c == "{" then
      local t = {}
      pos = pos + 1
      space()
      if text:sub(pos, pos) == "}" then pos = pos + 1; return t end
      while true do
        space()
        local k = str()
        space()
        assert(text:sub(pos, pos) == ":", "':' expected at " .. pos)
        pos = pos + 1
        t[k] = value()
        space()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "}" then return t end
        assert(d == ",", "',' expected at " .. pos)
      end
    elseif c == "[" then
      local t = {}
      pos = pos + 1
      space()
      if text:sub(pos, pos) == "]" then pos = pos + 1; return t end
      while true do
        t[#t + 1] = value()
        space()
        local d = text:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return t end
        assert(d == ",", "',' expected at " .. pos)
      end
    elseif c == '"' then
      return str()
    elseif text:sub(pos, pos + 3) == "true" then
      pos = pos + 4; return true
    elseif text:sub(pos, pos + 4) == "false" then
      pos = pos + 5; return false
    elseif text:sub(pos, pos + 3) == "null" then
      pos = pos + 4; return nil
    end
    local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    assert(num and #num > 0, "bad JSON at byte " .. pos .. ": " .. text:sub(pos, pos + 40))
    pos = pos + #num
    return math.tointeger(tonumber(num)) or tonumber(num)
  end
  local v = value()
  space()
  assert(pos > #text, "text after the JSON document")
  return v
end

--- Runs parley load with `argv` (--json is added) and returns the decoded results.
function M.load(argv, timeout)
  local full = { "load", "--json" }
  for _, a in ipairs(argv) do full[#full + 1] = a end
  local out, status = M.parley(full, timeout)
  local ok, res = pcall(M.decode, out)
  assert(ok, "parley load did not print JSON: " .. tostring(res) .. "\n" .. out)
  return res, status
end

--- The value at percentile p of bucket pairs {{lower, count}, ...}, as parley computes it:
-- the middle of the bucket holding rank ceil(p% of count), within [min, max].
function M.percentile(h, p)
  if h.count == 0 then return 0 end
  if p >= 100 then return h.max end
  local rank = math.max(1, math.ceil(p / 100 * h.count))
  local seen = 0
  for _, b in ipairs(h.buckets) do
    seen = seen + b[2]
    if seen >= rank then
      local lower = b[1]
      local upper = lower
      if lower >= 256 then
        local shift = 0
        while (lower >> shift) >= 256 do shift = shift + 1 end
        upper = lower + (1 << shift) - 1
      end
      local mid = lower + (upper - lower) // 2
      return math.min(math.max(mid, h.min), h.max)
    end
  end
  return h.max
end

--- A client script's path.
function M.client(name)
  return M.dir .. "/clients/" .. name .. ".lua"
end

return M
