--- Misbehaving servers for the tests of the ready checks (examples/checks), played by the
-- test script itself, and `parley test` run as a child against them.
-- @module servers

package.path = "../load/?.lua;" .. package.path
local helpers = require "helpers"

local M = {}

--- The checks folder of this repository.
M.checks = "../../examples/checks"

--- Runs `parley test ARGS...` as a child; returns its stdout (stderr joined) and exit status.
function M.parley_test(argv, timeout)
  local full = { "test" }
  for _, a in ipairs(argv) do full[#full + 1] = a end
  return helpers.parley(full, timeout)
end

--- Serves every connection to a new listener with `handle(c)` in a conversation of its own.
-- @param opts options of `listen` (host and port are set)
function M.serve(opts, handle)
  opts = opts or {}
  opts.host, opts.port = "127.0.0.1", 0
  local srv = listen(opts)
  spawn(function()
    while true do
      local ok, c = pcall(srv.accept, srv, 60)
      if not ok or not c then return end  -- closed by the test, or nobody came
      spawn(function() pcall(handle, c) c:close() end)
    end
  end)
  return srv
end

--- A small SMTP server: EHLO lists `caps`; `answers[VERB](line, c)` answers a verb (else 250).
-- STARTTLS answers 220 and then runs `starttls(c)` (default: a TLS handshake). With
-- `implicit`, every connection starts with a TLS handshake (in its own conversation, so that
-- a client that never starts one holds up no other).
function M.smtp(answers, caps, starttls, implicit)
  return M.serve({}, function(c)
    if implicit then c:starttls {} end
    c:send("220 mx.test ESMTP")
    while true do
      local line = c:read_line(20)
      if not line then return end
      local verb = (line:match("^(%a+)") or ""):upper()
      if answers[verb] then
        if answers[verb](line, c) == "stop" then return end
      elseif verb == "EHLO" then
        c:send("250-mx.test")
        for _, cap in ipairs(caps or {}) do c:send("250-" .. cap) end
        c:send("250 ENHANCEDSTATUSCODES")
      elseif verb == "STARTTLS" then
        c:send("220 2.0.0 go ahead")
        if starttls then return starttls(c) end
        c:starttls {}
      elseif verb == "QUIT" then
        c:send("221 2.0.0 bye")
        return
      else
        c:send("250 2.0.0 ok")
      end
    end
  end)
end

return M
