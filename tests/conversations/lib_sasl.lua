-- The SASL mechanisms against the published test vectors (RFC 5802, RFC 7677, RFC 2195) and
-- the failure cases: a server signature that does not match, a nonce the server did not extend.
-- exit: 0
-- stdout: all sasl checks passed
local sasl = require "parley.sasl"
local crypto = require "parley.crypto"
local parley = require "parley"

local function eq(got, want, what)
  if got ~= want then
    fail(what .. ": got " .. string.format("%q", got) .. ", wanted " .. string.format("%q", want))
  end
end

-- PLAIN
local m = sasl.start("plain", "tim", secret("tanstaaftanstaaf"))
eq(m:initial(), "\0tim\0tanstaaftanstaaf", "PLAIN")
assert(parley.mask(m:initial()) == "\0tim\0****", "the password is registered")
assert(parley.is_secret(crypto.b64encode(m:initial())), "the blob sent is registered")
m = sasl.start("PLAIN", "tim", "pw", { authzid = "admin" })
eq(m:initial(), "admin\0tim\0pw", "PLAIN with authzid")
-- PLAIN without SASL-IR: the initial response comes as the answer to an empty challenge
m = sasl.start("PLAIN", "tim", "pw")
eq(m:step(""), "\0tim\0pw", "PLAIN after an empty challenge")

-- LOGIN
m = sasl.start("LOGIN", "tim", "pw")
assert(m:initial() == nil)
eq(m:step("Username:"), "tim", "LOGIN user")
eq(m:step("Password:"), "pw", "LOGIN pass")
assert(m:step("more?") == nil)

-- CRAM-MD5 (RFC 2195 section 2)
m = sasl.start("CRAM-MD5", "tim", "tanstaaftanstaaf")
eq(m:step("<1896.697170952@postoffice.reston.mci.net>"),
   "tim b913a602c7eda7a495b4e6e7334d3890", "CRAM-MD5")

-- XOAUTH2
m = sasl.start("XOAUTH2", "someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
eq(crypto.b64encode(m:initial()),
   "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==",
   "XOAUTH2")
eq(m:step('{"status":"401"}'), "", "XOAUTH2 error answer")

-- SCRAM-SHA-1 (RFC 5802 section 5)
m = sasl.start("SCRAM-SHA-1", "user", "pencil", { nonce = "fyko+d2lbbFgONRv9qkxdawL" })
eq(m:initial(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", "SCRAM-SHA-1 client-first")
eq(m:step("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"),
   "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
   "SCRAM-SHA-1 client-final")
eq(m:step("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="), "", "SCRAM-SHA-1 server-final")
assert(m:finish() == true and m.verified)

-- SCRAM-SHA-256 (RFC 7677 section 3)
m = sasl.start("SCRAM-SHA-256", "user", secret("pencil"), { nonce = "rOprNGfwEbeRWgbNEkqO" })
eq(m:initial(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", "SCRAM-SHA-256 client-first")
local final = m:step("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
assert(parley.mask(final):match(",p=%*%*%*%*$"), "the client proof is masked: " .. parley.mask(final))
eq(final, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
   "SCRAM-SHA-256 client-final")
-- success as additional data (the way some servers send server-final)
assert(m:finish("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=") == true)

-- a server that does not know the password
m = sasl.start("SCRAM-SHA-256", "user", "pencil", { nonce = "rOprNGfwEbeRWgbNEkqO" })
m:initial()
m:step("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
local ok, err, kind = m:step("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
assert(ok == nil and kind == "security" and err:find("signature"), err)
assert(m:finish() == nil, "finish must refuse an unverified SCRAM exchange")

-- success claimed without any server signature
m = sasl.start("SCRAM-SHA-256", "user", "pencil", { nonce = "abc" })
m:initial()
m:step("r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
assert(m:finish() == nil)

-- a server nonce that does not extend ours
m = sasl.start("SCRAM-SHA-256", "user", "pencil", { nonce = "abc" })
m:initial()
ok, err, kind = m:step("r=xyz123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
assert(ok == nil and kind == "security", err)

-- a mandatory extension, an absurd iteration count
m = sasl.start("SCRAM-SHA-256", "user", "pencil", { nonce = "abc" }); m:initial()
assert(m:step("m=ext,r=abcd,s=QQ==,i=1") == nil)
m = sasl.start("SCRAM-SHA-256", "user", "pencil", { nonce = "abc" }); m:initial()
assert(m:step("r=abcd,s=QQ==,i=999999999") == nil)

-- user names with , and = are escaped; random nonces differ
m = sasl.start("SCRAM-SHA-256", "a,b=c", "x")
assert(m:initial():match("^n,,n=a=2Cb=3Dc,r=[%w+/=]+$"), m:initial())
local n2 = sasl.start("SCRAM-SHA-256", "u", "x"):initial()
assert(n2 ~= sasl.start("SCRAM-SHA-256", "u", "x"):initial())

assert(sasl.choose({ PLAIN = true, ["SCRAM-SHA-256"] = true, LOGIN = true }) == "SCRAM-SHA-256")
assert(sasl.choose({ "LOGIN", "PLAIN" }) == "PLAIN")
assert(sasl.choose({ "GSSAPI" }) == nil)
assert(not pcall(sasl.start, "GSSAPI", "u", "p"))
print("all sasl checks passed")
