-- secrets_masked.lua: secret(v) is usable wherever a string is (.., send) and masked as ****
-- everywhere it would show: both sides of the transcript (-v shows the server side), print,
-- the transcript file (--transcript FILE, read back by the script), and a failure message.
-- exit: 1
-- args: -v --timeout 3 --transcript /tmp/parley-conversation-secrets_masked.txt
-- params: tfile=/tmp/parley-conversation-secrets_masked.txt
-- stdout: printed: AUTH PLAIN \*\*\*\*
-- stdout: transcript clean
-- stdout: plain: \*\*\*\*
-- stderr: expected 235, got: 535 5\.7\.8 \*\*\*\* rejected
-- stderr-not: s3cr3t-Pa55
-- stderr-not: czNjcjN0LVBhNTU
-- within: 4

local crypto = require("parley").crypto or require "parley.crypto"
local pw = secret("s3cr3t-Pa55")
assert(tostring(pw) == "****", "tostring of a secret")
assert(#pw == 11, "a secret has the value's length")
local line = "AUTH PLAIN " .. pw
assert(tostring(line) == "****", "a secret joined with text is a secret")
print("printed: AUTH PLAIN " .. tostring(pw))
-- print masks the registered value even when the script got hold of the plain bytes
print("plain: " .. require("parley").reveal(pw))

local srv = listen { host = "127.0.0.1", port = 0 }
local server = spawn(function()
  local s = srv:accept()
  local got = s:read_line()
  -- the server sees the real bytes
  local value = got:match("^AUTH PLAIN (.*)$")
  assert(secret(value) == pw, "the real value went over the wire")
  local enc = s:read_line()
  s:send("535 5.7.8 " .. value .. " rejected")
  return enc
end)

local c = connect("127.0.0.1", srv.port)
c:send(line)
-- a value derived from a secret (base64, as SASL sends it) is masked too
local b64 = crypto.b64encode(pw)
assert(tostring(b64) == "****", "b64 of a secret is a secret")
c:send(b64)
local enc = server:join()
assert(enc == "czNjcjN0LVBhNTU=", "base64 on the wire: " .. enc)

-- the transcript file so far must hold the conversation but never the secret
local f = assert(io.open(args.tfile, "r"))
local text = f:read("a")
f:close()
os.remove(args.tfile)
assert(text:find("AUTH PLAIN ****", 1, true), "the transcript shows the line masked:\n" .. text)
assert(not text:find("s3cr3t", 1, true), "the secret leaked into the transcript:\n" .. text)
assert(not text:find("czNjcjN0", 1, true), "the base64 of the secret leaked:\n" .. text)
print("transcript clean")

c:expect(235) -- fails: the message quotes the reply, masked
