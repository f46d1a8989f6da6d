-- fault_starttls_pipelined.lua: a client that pipelines a command after STARTTLS / STLS in the
-- same write. Each mock refuses (554, -ERR, BAD), says why in its log, and hangs up instead of
-- taking the plaintext as if it came under TLS (CVE-2011-0411).
-- exit: 0
-- args: --timeout 5
-- stdout: smtp refused the pipelined STARTTLS
-- stdout: pop3 refused the pipelined STLS
-- stdout: imap refused the pipelined STARTTLS
-- within: 5
local log = {}
local function logger(line) log[#log + 1] = line end
local function start(proto)
  return require("parley.mock." .. proto).start { tls = "starttls", log = logger,
                                                  users = { alice = "pw" } }
end

local smtp = start("smtp")
local c = connect("127.0.0.1", smtp.port)
c:expect(220)
c:send("EHLO client.example")
c:expect(250)
c:send_raw("STARTTLS\r\nMAIL FROM:<evil@example.net>\r\n")
c:expect("^5%.5%.1 .*pipelined")
assert(c:read_reply() == nil, "the mock hung up")
print("smtp refused the pipelined STARTTLS")

local pop3 = start("pop3")
local p = connect { port = pop3.port, framing = "pop3" }
p:expect("ready")
p:send_raw("STLS\r\nUSER alice\r\n")
local r = p:read_reply()
assert(r.status == "-ERR" and r.text:find("pipelined"), r.raw)
assert(p:read_reply() == nil, "the mock hung up")
print("pop3 refused the pipelined STLS")

local imap = start("imap")
local i = connect { port = imap.port, framing = "imap" }
i:read_reply()
i:send_raw("a1 STARTTLS\r\na2 LOGIN alice pw\r\n")
r = i:read_reply()
assert(r.tag == "a1" and r.raw:find("^a1 BAD .*pipelined"), r.raw)
assert(i:read_reply() == nil, "the mock hung up")
print("imap refused the pipelined STARTTLS")

local said = 0
for _, line in ipairs(log) do
  if line:find("CVE-2011-0411", 1, true) then said = said + 1 end
end
assert(said == 3, "each mock logs the refusal:\n" .. table.concat(log, "\n"))
