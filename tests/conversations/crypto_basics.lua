-- crypto_basics.lua: require "parley" gives the same functions as the globals, and
-- parley.crypto does base64 (round trip, strict decoding), HMAC-SHA-256 (RFC 4231 test case 2),
-- digests, PBKDF2 (RFC 6070 vector), random, xor, hex; what is computed from a secret is registered.
-- exit: 0
-- args: --timeout 3
-- stdout: crypto ok
-- within: 4

local parley = require "parley"
assert(parley.connect == connect and parley.listen == listen and parley.spawn == spawn,
  "require \"parley\" holds the globals")
assert(parley.sleep == sleep and parley.fail == fail and parley.secret == secret)
assert(parley.args == args)
local crypto = require "parley.crypto"
assert(parley.crypto == nil or parley.crypto == crypto, "parley.crypto is the module")

-- base64
for _, s in ipairs { "", "f", "fo", "foo", "foob", "fooba", "foobar", "\0\255\1binary" } do
  local e = crypto.b64encode(s)
  assert(crypto.b64decode(e) == s, "round trip of " .. #s .. " bytes")
end
assert(crypto.b64encode("foobar") == "Zm9vYmFy")
assert(crypto.b64encode("fooba") == "Zm9vYmE=")
assert(crypto.b64decode("Zm9v\r\nYmE=") == "fooba", "line breaks are ignored")
local bad, why = crypto.b64decode("abc")
assert(bad == nil and why, "not base64 is nil + message")

-- HMAC-SHA-256, RFC 4231 test case 2
local mac = crypto.hmac("sha256", "Jefe", "what do ya want for nothing?")
assert(crypto.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  "hmac sha256: " .. crypto.hex(mac))
-- HMAC-MD5 (CRAM-MD5), RFC 2104 test 2
assert(crypto.hex(crypto.hmac("md5", "Jefe", "what do ya want for nothing?")) ==
  "750c783e6ab0b503eaa86e310a5db738")

-- digest
assert(crypto.hex(crypto.digest("sha256", "abc")) ==
  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
assert(crypto.hex(crypto.digest("sha1", "abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d")
assert(not pcall(crypto.digest, "nosuchdigest", "x"), "unknown digest refused")

-- PBKDF2-HMAC-SHA1, RFC 6070 (2 iterations)
assert(crypto.hex(crypto.pbkdf2("sha1", "password", "salt", 2, 20)) ==
  "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957")

-- random, xor, hex
local r1, r2 = crypto.random(16), crypto.random(16)
assert(#r1 == 16 and r1 ~= r2, "random bytes")
local u1, u2 = crypto.unique(12), crypto.unique(12)
assert(#u1 == 12 and u1 ~= u2, "unique bytes")
assert(not pcall(crypto.unique, 0) and not pcall(crypto.unique, 257), "unique: 1 to 256 bytes")
assert(crypto.xor("\1\2\3", "\1\2\3") == "\0\0\0")
assert(not pcall(crypto.xor, "ab", "abc"), "xor wants equal lengths")
assert(crypto.hex("\0\255") == "00ff")

-- what is computed from a secret is registered for masking; the value itself is untouched
local pw = secret("pencil")
local e = crypto.b64encode(pw)
assert(e == "cGVuY2ls" and parley.is_secret(e), "b64 of a secret is registered")
assert(parley.mask("AUTH " .. e) == "AUTH ****")
local h = crypto.hmac("sha256", pw, "data")
assert(parley.is_secret(h), "hmac keyed with a secret is registered")
assert(parley.is_secret(crypto.hex(h)), "hex of that is registered")
assert(not parley.is_secret(crypto.hmac("sha256", "k", "data")), "plain in, nothing registered")
assert(secret(pw) == pw and type(secret(pw)) == "string", "secret of a secret is itself")
-- a blob that decodes to a secret (a mock reading AUTH PLAIN) is registered when decoded
local blob = "AGFsaWNlAHBlbmNpbA=="
assert(not parley.is_secret(blob))
assert(crypto.b64decode(blob) == "\0alice\0pencil" and parley.is_secret(blob))
print("crypto ok")
