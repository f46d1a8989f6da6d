// The Lua runtime without the network: exit statuses, tasks, secrets, crypto, module loading.
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "report/transcript.hpp"
#include "script/engine.hpp"

using parley::script::Engine;
using parley::script::EngineOptions;

namespace {

EngineOptions quiet_options() {
  EngineOptions o;
  o.transcript.enabled = false;
  o.timeout = 5;
  return o;
}

int run(const std::string& code, EngineOptions options = quiet_options()) {
  Engine engine(options);
  return engine.run_chunk("=test", code);
}

}  // namespace

TEST_CASE("exit statuses follow how the script ended") {
  CHECK(run("local x = 1") == 0);
  CHECK(run("fail('no')") == 1);
  CHECK(run("error('boom')") == 2);
  CHECK(run("local = syntax error") == 2);
  CHECK(run("assert(false, 'an assertion')") == 2);
  CHECK(run("require 'parley'.raise(3, 'network', 'down')") == 3);
}

TEST_CASE("spawned conversations run concurrently and join returns their results") {
  CHECK(run(R"(
    local order = {}
    local a = spawn(function(x) sleep(0.05); order[#order + 1] = "a"; return x * 2, "two" end, 21)
    local b = spawn(function() order[#order + 1] = "b"; return "b" end)
    local r1, r2 = a:join()
    assert(r1 == 42 and r2 == "two", "results of a")
    assert(b:join() == "b", "result of b")
    assert(order[1] == "b" and order[2] == "a", "b finished first: " .. table.concat(order, ","))
    assert(a:done() and b:done())
  )") == 0);
}

TEST_CASE("join re-raises the spawned conversation's failure with its exit status") {
  CHECK(run("spawn(function() fail('inner') end):join()") == 1);
  CHECK(run(R"(
    local ok, err = pcall(function() return spawn(function() fail('inner') end):join() end)
    assert(not ok and err.kind == 'failed' and err.message == 'inner', tostring(err))
  )") == 0);
}

TEST_CASE("a spawned conversation that fails unjoined makes the run fail") {
  CHECK(run("spawn(function() fail('alone') end); sleep(0.05)") == 1);
}

TEST_CASE("join has a deadline") {
  CHECK(run("spawn(function() sleep(3) end):join(0.1)") == 1);
}

TEST_CASE("network waits outside a conversation's own coroutine are refused") {
  CHECK(run("coroutine.wrap(function() sleep(0.01) end)()") == 2);
  CHECK(run("local t = {3, 1, 2}; table.sort(t, function(a, b) sleep(0) return a < b end)") == 2);
}

TEST_CASE("a loop that never waits is stopped at the timeout") {
  EngineOptions o = quiet_options();
  o.timeout = 0.3;
  CHECK(run("while true do end", o) == 2);
}

TEST_CASE("secrets are plain strings, registered for masking") {
  CHECK(run(R"(
    local parley = require "parley"
    local s = secret("hunter2")
    assert(type(s) == "string" and s == "hunter2", "secret(v) is v itself")
    assert(#s == 7 and s:upper() == "HUNTER2" and ("PASS " .. s):find(s, 1, true) == 6)
    assert(parley.is_secret(s) and not parley.is_secret("PASS " .. s))
    assert(parley.reveal(s) == s)
    assert(parley.mask("x hunter2 y") == "x **** y")
    assert(secret(42) == "42", "a number becomes its string")
  )") == 0);
}

TEST_CASE("args whose names say secret are registered, and stay plain strings") {
  EngineOptions o = quiet_options();
  o.args = {{"host", "mail.example"}, {"password", "pw1-long"}, {"api_token", "t0k-long"}};
  CHECK(run(R"(
    local parley = require "parley"
    assert(args.host == "mail.example" and not parley.is_secret(args.host))
    assert(args.password == "pw1-long" and parley.is_secret(args.password))
    assert(args.api_token == "t0k-long" and parley.is_secret(args.api_token))
    assert(parley.mask("tok t0k-long") == "tok ****")
  )",
            o) == 0);
}

TEST_CASE("crypto primitives come from OpenSSL and keep secrets secret") {
  CHECK(run(R"(
    local c = require "parley.crypto"
    assert(c.b64encode("hello") == "aGVsbG8=")
    assert(c.b64decode("aGVsbG8=") == "hello")
    assert(c.b64decode("a") == nil)
    -- RFC 4231 test case 2
    assert(c.hex(c.hmac("sha256", "Jefe", "what do ya want for nothing?")) ==
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    assert(c.hex(c.digest("sha1", "abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    assert(#c.random(16) == 16)
    assert(c.xor("\1\2", "\3\3") == "\2\1")
    -- what is computed from a secret is registered too; the value is untouched
    local b = c.b64encode("\0alice\0" .. secret("hunter2"))
    assert(b == "AGFsaWNlAGh1bnRlcjI=")
    assert(require("parley").mask("AUTH PLAIN " .. b) == "AUTH PLAIN ****")
    assert(require("parley").is_secret(c.hex(c.hmac("md5", "hunter2", "<1@x>"))))
    assert(not require("parley").is_secret(c.hex(c.hmac("md5", "k", "data"))))
  )") == 0);
}

TEST_CASE("embedded modules load and the codes module explains") {
  CHECK(run(R"(
    local codes = require "parley.codes"
    assert(codes.describe(250))
    assert(require("parley") == require("parley"))
  )") == 0);
  CHECK(run("require 'parley.nonexistent'") == 2);
}

TEST_CASE("transcript masks registered secrets and escapes control bytes") {
  parley::report::TranscriptOptions o;
  o.enabled = false;
  std::FILE* warnings = std::tmpfile();
  REQUIRE(warnings != nullptr);
  o.out = warnings;
  parley::report::Transcript t(o);
  t.add_secret("pw");
  t.add_secret("mail");
  t.add_secret("longpw");
  // Short secrets: masked only in what parley sent; long ones everywhere.
  CHECK(t.mask("user longpw and pw") == "user **** and pw");
  CHECK(t.mask("user longpw and pw", true) == "user **** and ****");
  CHECK(t.mask("220 mail.test ESMTP") == "220 mail.test ESMTP");
  std::rewind(warnings);
  std::string warned(4096, '\0');
  warned.resize(std::fread(warned.data(), 1, warned.size(), warnings));
  std::fclose(warnings);
  CHECK(warned.find("too short to mask everywhere") != std::string::npos);
  CHECK(warned.find("too short", warned.find("too short") + 1) == std::string::npos);
  // Derived forms are kept up to a bound, the oldest forgotten first; the script's stay.
  for (std::size_t i = 0; i < parley::report::Transcript::kMaxDerived + 10; ++i) {
    t.add_derived("derived-" + std::to_string(i));
  }
  CHECK(!t.is_secret("derived-0"));
  CHECK(t.is_secret("derived-" + std::to_string(parley::report::Transcript::kMaxDerived + 9)));
  CHECK(t.is_secret("longpw"));
  CHECK(t.holds_secret("xx longpw yy"));
  o.show_secrets = true;
  o.out = stderr;
  t.set_options(o);
  CHECK(t.mask("user longpw") == "user longpw");
  CHECK(parley::report::printable("a\r\n\x01\xff") == "a\\r\\n\\x01\\xff");
  CHECK(parley::report::printable(std::string(20, 'x'), 10) == "xxxxxxxxxx ... (10 more bytes)");
}
