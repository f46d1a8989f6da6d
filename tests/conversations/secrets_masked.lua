-- secrets_masked.lua: secret(v) is v itself, a plain string that every string function works
-- on; the bytes sent are the real ones, while everything parley shows masks it as ****: both
-- sides of the transcript (-v shows the server side), print, the transcript file
-- (--transcript FILE, read back by the script), and a failure message.
-- exit: 1
-- args: -v --timeout 3 --transcript /tmp/parley-conversation-secrets_masked.txt
-- params: tfile=/tmp/parley-conversation-secrets_masked.txt
-- stdout: printed: AUTH PLAIN \*\*\*\*
-- stdout: transcript clean
-- stdout: plain: \*\*\*\* \(11 bytes\)
-- stderr: expected 235, got: 535 5\.7\.8 \*\*\*\* rejected \(b64 \*\*\*\*\)
-- stderr-not: s3cr3t-Pa55
-- stderr-not: czNjcjN0LVBhNTU
-- within: 4

local crypto = require "parley.crypto"
local pw = secret("s3cr3t-Pa55")
assert(type(pw) == "string" and pw == "s3cr3t-Pa55", "secret(v) returns v itself")
assert(#pw == 11 and pw:sub(1, 6) == "s3cr3t" and pw:upper() == "S3CR3T-PA55", "string functions")
assert(string.find("x s3cr3t-Pa55 y", pw, 1, true) == 3 and pw < "t" and pw > "s", "find, compare")
assert(("%s!"):format(pw) == "s3cr3t-Pa55!" and pw:gsub("%-", "_") == "s3cr3t_Pa55", "format, gsub")
local line = "AUTH PLAIN " .. pw
assert(line == "AUTH PLAIN s3cr3t-Pa55", "concatenation gives the plain bytes")
print("printed: " .. line)
print("plain: " .. pw .. " (" .. #pw .. " bytes)")

local srv = listen { host = "127.0.0.1", port = 0 }
local server = spawn(function()
  local s = srv:accept()
  local got = s:read_line()
  local enc = s:read_line()
  -- a server that echoes the credential back, as some do in their refusals
  s:send("535 5.7.8 " .. got:match("^AUTH PLAIN (.*)$") .. " rejected (b64 " .. enc .. ")")
  return got, enc
end)

local c = connect("127.0.0.1", srv.port)
c:send(line)
-- a value derived from a secret (base64, as SASL sends it) is masked too
local b64 = crypto.b64encode(pw)
assert(b64 == "czNjcjN0LVBhNTU=", "base64 of the plain bytes")
c:send(b64)
local got, enc = server:join()
assert(got == "AUTH PLAIN s3cr3t-Pa55", "the real bytes went over the wire: " .. got)
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
