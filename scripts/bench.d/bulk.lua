-- scripts/bench (5): IMAP FETCH of one big literal. Prints one line per fetch: "fetch SECONDS".
-- Args: port, size (the literal's bytes), rounds.
local parley = require "parley"
local size = tonumber(args.size or 52428800)
local c = connect { host = "127.0.0.1", port = args.port, framing = "imap",
  max_reply = size + 65536, transcript = false }
local function tagged(tag) -- skips untagged responses; the tagged one must be OK
  while true do
    local r = assert(c:read_reply())
    if r.tag == tag then
      assert(r.text:find("^%S+ OK"), r.text)
      return r
    end
  end
end
c:expect("^%* OK")
c:send("a LOGIN bench bench")
tagged("a")
c:send("b SELECT INBOX")
tagged("b")
for round = 1, tonumber(args.rounds or 1) do
  local t0 = parley.clock()
  c:send("f" .. round .. " FETCH 1 BODY[]")
  local r = c:read_reply()
  local t1 = parley.clock()
  assert(r.literals and #r.literals[1] == size, "the literal did not come whole")
  tagged("f" .. round)
  io.stdout:write(("fetch %.6f\n"):format(t1 - t0))
end
c:send("z LOGOUT")
tagged("z")
c:close()
