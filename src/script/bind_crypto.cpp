// parley.crypto: the primitives SASL needs, all from OpenSSL. What is computed from a secret is
// registered for masking too (derived forms: a PLAIN blob, a hex digest, a SCRAM proof), so that
// the transcript hides the encodings a library sends as well as the secret itself.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/random.h>

#include <cerrno>
#include <string>

#include "script/engine.hpp"
#include "script/lua_util.hpp"

namespace parley::script {

namespace {

// Whether an input holds a registered secret (what comes out of it is then registered).
bool from_secret(lua_State* L, std::string_view a, std::string_view b = {}) {
  const auto& t = Engine::of(L).transcript();
  return t.holds_secret(a) || (!b.empty() && t.holds_secret(b));
}

// Pushes `value`, registered as a derived form when it was computed from a secret.
int push_result(lua_State* L, const std::string& value, bool secret) {
  if (secret) Engine::of(L).transcript().add_derived(value);
  lua_pushlstring(L, value.data(), value.size());
  return 1;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string hex(std::string_view in) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(in.size() * 2);
  for (unsigned char c : in) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

const EVP_MD* check_md(lua_State* L, int idx) {
  const char* name = check_string(L, idx);
  const EVP_MD* md = EVP_get_digestbyname(name);
  if (md == nullptr) raise_text(L, "unknown digest \"%s\" (md5, sha1, sha256, ...)", name);
  return md;
}

int l_b64encode(lua_State* L) {
  std::string_view in = check_bytes(L, 1);
  bool secret = from_secret(L, in);
  return push_result(L, base64(in), secret);
}

// Strict: returns nil, message for input that is not base64.
int l_b64decode(lua_State* L) {
  std::string_view in = check_bytes(L, 1);
  bool secret = from_secret(L, in);
  std::string clean;
  for (char c : in) {
    if (c != '\r' && c != '\n' && c != ' ') clean += c;
  }
  if (clean.size() % 4 != 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "not base64: the length is not a multiple of 4");
    return 2;
  }
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "not base64");
    return 2;
  }
  std::size_t pad = 0;
  if (!clean.empty() && clean.back() == '=') ++pad;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  // A blob that decodes to a secret (a mock reading a client's AUTH PLAIN) is one too.
  if (!secret && Engine::of(L).transcript().holds_secret(out)) {
    Engine::of(L).transcript().add_derived(std::string(in));
  }
  return push_result(L, out, secret);
}

// hmac(digest, key, data) -> raw bytes
int l_hmac(lua_State* L) {
  const EVP_MD* md = check_md(L, 1);
  std::string_view key = check_bytes(L, 2);
  std::string_view data = check_bytes(L, 3);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return push_result(L, std::string(reinterpret_cast<char*>(out), len), from_secret(L, key, data));
}

// digest(name, data) -> raw bytes
int l_digest(lua_State* L) {
  const EVP_MD* md = check_md(L, 1);
  std::string_view data = check_bytes(L, 2);
  bool secret = from_secret(L, data);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return push_result(L, std::string(reinterpret_cast<char*>(out), len), secret);
}

// pbkdf2(digest, password, salt, iterations, length) -> raw bytes
int l_pbkdf2(lua_State* L) {
  const EVP_MD* md = check_md(L, 1);
  std::string_view pass = check_bytes(L, 2);
  std::string_view salt = check_bytes(L, 3);
  lua_Integer iterations = check_integer(L, 4);
  lua_Integer length = opt_integer(L, 5, EVP_MD_get_size(md));
  arg_check(L, iterations > 0 && iterations <= 10000000, 4, "1 to 10,000,000 iterations");
  arg_check(L, length > 0 && length <= 1024, 5, "1 to 1024 bytes");
  std::string out(static_cast<std::size_t>(length), '\0');
  PKCS5_PBKDF2_HMAC(pass.data(), static_cast<int>(pass.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), static_cast<int>(iterations), md,
                    static_cast<int>(length), reinterpret_cast<unsigned char*>(out.data()));
  return push_result(L, out, from_secret(L, pass, salt));
}

int l_random(lua_State* L) {
  lua_Integer n = check_integer(L, 1);
  arg_check(L, n > 0 && n <= 65536, 1, "1 to 65536 bytes");
  std::string out(static_cast<std::size_t>(n), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    raise_text(L, "the random generator failed");
  }
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

// unique(n): n bytes from the kernel's generator (getrandom(2)), for identifiers that must only
// be unique (a Message-ID, a MIME boundary). OpenSSL's generator costs ~8 M instructions to set
// up on first use (half a plain SMTP transaction's process); secrets and nonces still use it.
int l_unique(lua_State* L) {
  lua_Integer n = check_integer(L, 1);
  arg_check(L, n > 0 && n <= 256, 1, "1 to 256 bytes");
  std::string out(static_cast<std::size_t>(n), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t r = getrandom(out.data() + got, out.size() - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) raise_text(L, "the kernel's random generator failed");
    got += static_cast<std::size_t>(r);
  }
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

// xor(a, b): byte-wise, equal lengths
int l_xor(lua_State* L) {
  std::string_view a = check_bytes(L, 1);
  std::string_view b = check_bytes(L, 2);
  arg_check(L, a.size() == b.size(), 2, "strings of equal length");
  std::string out(a);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>(out[i] ^ b[i]);
  return push_result(L, out, from_secret(L, a, b));
}

int l_hex(lua_State* L) {
  std::string_view in = check_bytes(L, 1);
  bool secret = from_secret(L, in);
  return push_result(L, hex(in), secret);
}

}  // namespace

void register_secret(Engine& engine, std::string_view value) {
  auto& t = engine.transcript();
  t.add_secret(std::string(value));
  if (value.empty()) return;
  // A server that echoes a credential often shows it encoded ("535 bad password (b64 ...)").
  // Encodings too short to be told from other text (of a 1-byte secret, say) are left out.
  std::string b64 = base64(value);
  std::size_t bare = b64.find('=');
  for (std::string form : {b64.substr(0, bare), b64, hex(value)}) {
    if (form.size() >= report::Transcript::kShortSecret) t.add_secret(std::move(form), false);
  }
}

void open_crypto(lua_State* L) {
  const luaL_Reg funcs[] = {{"b64encode", protect<l_b64encode>},
                            {"b64decode", protect<l_b64decode>},
                            {"hmac", protect<l_hmac>},
                            {"digest", protect<l_digest>},
                            {"pbkdf2", protect<l_pbkdf2>},
                            {"random", protect<l_random>},
                            {"unique", protect<l_unique>},
                            {"xor", protect<l_xor>},
                            {"hex", protect<l_hex>},
                            {nullptr, nullptr}};
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  luaL_newlib(L, funcs);
  lua_setfield(L, -2, "parley.crypto");
  lua_pop(L, 1);
}

}  // namespace parley::script
