// TLS contexts, the on-the-fly certificate, and certificate facts. All crypto is OpenSSL's.
#include "net/tls.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <stdexcept>

namespace parley::net {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string name_text(X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return bio_text(bio.get());
}

std::string time_text(const ASN1_TIME* t, long long* epoch) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (epoch != nullptr) *epoch = static_cast<long long>(timegm(&tm));
  return buf;
}

int version_number(const std::string& v) {
  if (v == "1.0") return TLS1_VERSION;
  if (v == "1.1") return TLS1_1_VERSION;
  if (v == "1.2") return TLS1_2_VERSION;
  if (v == "1.3") return TLS1_3_VERSION;
  throw std::runtime_error("unknown TLS version \"" + v + "\" (use 1.0, 1.1, 1.2 or 1.3)");
}

void add_pem_to_store(SSL_CTX* ctx, const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
    ++added;
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  if (added == 0) throw std::runtime_error("ca_pem holds no PEM certificate");
}

// A P-256 key, as EVP_EC_gen("P-256") makes it: that macro's function, EVP_PKEY_Q_keygen, takes
// variable arguments, which a forwarder of openssl_lazy.cpp could not pass on.
PkeyPtr make_p256_key() {
  using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") <= 0 ||
      EVP_PKEY_generate(ctx.get(), &key) <= 0) {
    return nullptr;
  }
  return PkeyPtr(key);
}

// The certificate and key made on the fly for TLS listeners without one.
struct SelfSigned {
  PkeyPtr key;
  X509Ptr cert;
  std::string pem;
};

void add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr)
    throw std::runtime_error("cannot make certificate extension: " + openssl_errors());
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// The on-the-fly certificate: for localhost, or a deliberately bad one (a profile) that a
// client's check must refuse: "expired" (valid 60 to 30 days ago), "wrong-host" (made for
// wrong.example only).
SelfSigned make_self_signed(const std::string& profile = "") {
  SelfSigned s;
  s.key = make_p256_key();
  if (!s.key) throw std::runtime_error("cannot make a key: " + openssl_errors());
  s.cert.reset(X509_new());
  X509* cert = s.cert.get();
  X509_set_version(cert, 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  const bool expired = profile == "expired";
  const bool wrong_host = profile == "wrong-host";
  X509_gmtime_adj(X509_getm_notBefore(cert), expired ? -60L * 24 * 3600 : -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), expired ? -30L * 24 * 3600 : 30L * 24 * 3600);
  const char* cn = wrong_host ? "wrong.example" : "localhost";
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("parley"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, s.key.get());
  add_extension(cert, NID_subject_alt_name,
                wrong_host ? "DNS:wrong.example" : "DNS:localhost,IP:127.0.0.1,IP:::1");
  add_extension(cert, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert, NID_key_usage, "critical,digitalSignature,keyCertSign");
  if (X509_sign(cert, s.key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("cannot sign the certificate: " + openssl_errors());
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  s.pem = bio_text(bio.get());
  return s;
}

const SelfSigned& self_signed() {
  static std::once_flag once;
  static SelfSigned s;
  std::call_once(once, [] { s = make_self_signed(); });
  return s;
}

const SelfSigned& self_signed_profile(const std::string& profile) {
  static std::mutex mutex;
  static std::map<std::string, SelfSigned> made;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = made.find(profile);
  if (it == made.end()) it = made.emplace(profile, make_self_signed(profile)).first;
  return it->second;
}

}  // namespace

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

namespace {

// The system's trusted CAs. Its hashed folder (/etc/ssl/certs) is read lazily, one issuer at a
// time as handshakes need them; reading the whole bundle file as well (what
// SSL_CTX_set_default_verify_paths does) parses every CA in it, ~30 ms at the start of every
// `parley run` that uses TLS. On Debian both are made by update-ca-certificates from the same
// CAs, so the folder alone is used when the bundle is the system's own (SSL_CERT_FILE unset or
// naming it) and the folder holds hash links; otherwise both, as OpenSSL would.
std::string resolved(const char* path) {
  char buf[PATH_MAX];
  return path != nullptr && realpath(path, buf) != nullptr ? std::string(buf) : std::string();
}

bool hashed_folder(const std::string& dir) {
  bool hashed = false;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string_view name = e->d_name;
      if (name.size() == 10 && name.substr(8) == ".0") {
        hashed = true;
        break;
      }
    }
    closedir(d);
  }
  return hashed;
}

void use_system_cas(SSL_CTX* ctx) {
  const char* env_file = std::getenv(X509_get_default_cert_file_env());
  const char* env_dir = std::getenv(X509_get_default_cert_dir_env());
  std::string file = resolved(env_file != nullptr ? env_file : X509_get_default_cert_file());
  std::string system_file = resolved(X509_get_default_cert_file());
  std::string dir = resolved(env_dir != nullptr ? env_dir : X509_get_default_cert_dir());
  bool own_bundle = file.empty() || file == system_file;
  if (own_bundle && !dir.empty() && hashed_folder(dir) &&
      SSL_CTX_load_verify_dir(ctx, dir.c_str()) == 1) {
    return;
  }
  SSL_CTX_set_default_verify_paths(ctx);
}

std::shared_ptr<ssl::context> build_client_context(const ClientTlsOptions& o) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = ctx->native_handle();
  // Verification runs in every handshake; its result is read afterwards, so a failure can be
  // reported with the certificate's facts rather than as a bare handshake alert.
  SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  if (!o.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, o.ca_file.c_str(), nullptr) != 1) {
      throw std::runtime_error("cannot load CA file " + o.ca_file + ": " + openssl_errors());
    }
  } else if (o.ca_pem.empty()) {
    use_system_cas(native);
  }
  if (!o.ca_pem.empty()) add_pem_to_store(native, o.ca_pem);
  if (!o.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(native, o.cert_file.c_str()) != 1) {
      throw std::runtime_error("cannot load certificate " + o.cert_file + ": " + openssl_errors());
    }
    const std::string& key = o.key_file.empty() ? o.cert_file : o.key_file;
    if (SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      throw std::runtime_error("cannot load key " + key + ": " + openssl_errors());
    }
  }
  if (!o.min_version.empty()) {
    // Old protocol versions need the security level lowered, or OpenSSL 3 refuses them.
    int v = version_number(o.min_version);
    if (v < TLS1_2_VERSION) SSL_CTX_set_security_level(native, 0);
    SSL_CTX_set_min_proto_version(native, v);
  }
  if (!o.max_version.empty()) {
    int v = version_number(o.max_version);
    if (v < TLS1_2_VERSION) {
      SSL_CTX_set_security_level(native, 0);
      SSL_CTX_set_min_proto_version(native, TLS1_VERSION);
    }
    SSL_CTX_set_max_proto_version(native, v);
  }
  return ctx;
}

// When a file was last changed (0 when it cannot be read): part of a cached context's key.
long long changed_at(const std::string& path) {
  struct stat st {};
  if (path.empty() || stat(path.c_str(), &st) != 0) return 0;
  return static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
}

}  // namespace

// Contexts are cached (per thread) by what configures them: loading the system's CA bundle
// parses every certificate in it, tens of milliseconds that would otherwise be spent on every
// connect{tls=true} and starttls. SNI and the name checked are set per connection
// (prepare_client), and client contexts keep no sessions, so a shared one changes nothing.
std::shared_ptr<ssl::context> make_client_context(const ClientTlsOptions& o) {
  std::string key;
  for (const std::string* part :
       {&o.ca_file, &o.ca_pem, &o.cert_file, &o.key_file, &o.min_version, &o.max_version}) {
    key += std::to_string(part->size()) + ":" + *part + ";";
  }
  for (const std::string* file : {&o.ca_file, &o.cert_file, &o.key_file}) {
    key += std::to_string(changed_at(*file)) + ";";
  }
  thread_local std::map<std::string, std::shared_ptr<ssl::context>> cache;
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  auto ctx = build_client_context(o);  // throws when a file cannot be loaded: nothing cached
  if (cache.size() >= 32) cache.clear();
  cache.emplace(std::move(key), ctx);
  return ctx;
}

std::shared_ptr<ssl::context> make_server_context(const std::string& cert_file,
                                                  const std::string& key_file,
                                                  std::string& cert_pem) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  if (cert_file.empty() && key_file.empty()) {
    const SelfSigned& s = self_signed();
    SSL_CTX_use_certificate(native, s.cert.get());
    SSL_CTX_use_PrivateKey(native, s.key.get());
    cert_pem = s.pem;
    return ctx;
  }
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
    throw std::runtime_error("cannot load certificate " + cert_file + ": " + openssl_errors());
  }
  const std::string& key = key_file.empty() ? cert_file : key_file;
  if (SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("cannot load key " + key + ": " + openssl_errors());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    throw std::runtime_error("key " + key + " does not match certificate " + cert_file);
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), SSL_CTX_get0_certificate(native));
  cert_pem = bio_text(bio.get());
  return ctx;
}

std::shared_ptr<ssl::context> make_server_context(const std::string& cert_file,
                                                  const std::string& key_file,
                                                  std::string& cert_pem,
                                                  const std::string& profile) {
  if (profile.empty()) return make_server_context(cert_file, key_file, cert_pem);
  if (profile != "expired" && profile != "wrong-host") {
    throw std::runtime_error("unknown certificate profile \"" + profile +
                             "\" (expired or wrong-host)");
  }
  if (!cert_file.empty() || !key_file.empty()) {
    throw std::runtime_error(
        "a certificate profile replaces cert= and key=: give one or the other");
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  const SelfSigned& s = self_signed_profile(profile);
  SSL_CTX_use_certificate(ctx->native_handle(), s.cert.get());
  SSL_CTX_use_PrivateKey(ctx->native_handle(), s.key.get());
  cert_pem = s.pem;
  return ctx;
}

void prepare_client(SSL* ssl, const ClientTlsOptions& o) {
  std::string sni = o.sni;
  if (sni.empty() && !is_ip_literal(o.host)) sni = o.host;
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl, sni.c_str());
  // The name checked is the sni when given (the name the script says it meant), else the host.
  const std::string& check = o.sni.empty() ? o.host : o.sni;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (is_ip_literal(check)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, check.c_str());
  } else if (!check.empty()) {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, check.c_str());
  }
}

TlsFacts collect_facts(SSL* ssl) {
  TlsFacts f;
  f.version = SSL_get_version(ssl);
  f.cipher = SSL_get_cipher_name(ssl);
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) f.sni = name;
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn != nullptr) f.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  X509Ptr cert(SSL_get1_peer_certificate(ssl));
  long result = SSL_get_verify_result(ssl);
  if (!cert) {
    f.verified = false;
    f.verify_error = "the peer sent no certificate";
    return f;
  }
  f.verified = result == X509_V_OK;
  if (!f.verified) {
    f.verify_error = X509_verify_cert_error_string(result);
    f.verify_code = result;
  }
  f.has_peer_cert = true;
  f.subject = name_text(X509_get_subject_name(cert.get()));
  f.issuer = name_text(X509_get_issuer_name(cert.get()));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr)) {
    char* hex = BN_bn2hex(bn);
    f.serial = hex;
    OPENSSL_free(hex);
    BN_free(bn);
  }
  f.not_before = time_text(X509_get0_notBefore(cert.get()), nullptr);
  f.not_after = time_text(X509_get0_notAfter(cert.get()), &f.not_after_epoch);
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      const ASN1_STRING* s = n->d.dNSName;
      f.sans.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                            static_cast<std::size_t>(ASN1_STRING_length(s))));
    } else if (n->type == GEN_IPADD) {
      const ASN1_STRING* s = n->d.iPAddress;
      char buf[INET6_ADDRSTRLEN] = {0};
      int family = ASN1_STRING_length(s) == 4 ? AF_INET : AF_INET6;
      inet_ntop(family, ASN1_STRING_get0_data(s), buf, sizeof buf);
      f.sans.push_back(std::string("IP:") + buf);
    }
  }
  GENERAL_NAMES_free(names);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  X509_digest(cert.get(), EVP_sha256(), md, &md_len);
  static const char* hex = "0123456789ABCDEF";
  for (unsigned int i = 0; i < md_len; ++i) {
    if (i > 0) f.sha256 += ':';
    f.sha256 += hex[md[i] >> 4];
    f.sha256 += hex[md[i] & 15];
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert.get());
  f.pem = bio_text(bio.get());
  return f;
}

std::string verify_advice(const TlsFacts& f, const std::string& checked) {
  const std::string relax = "to go on anyway pass verify=false";
  if (f.verify_code == X509_V_ERR_HOSTNAME_MISMATCH ||
      f.verify_code == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    std::string names;
    std::string first;
    for (const std::string& san : f.sans) {
      std::string n = san.substr(san.find(':') + 1);
      if (first.empty()) first = n;
      names += (names.empty() ? "" : ", ") + n;
    }
    if (names.empty()) names = "no subject alternative name (subject " + f.subject + ")";
    std::string s = "The certificate names " + names;
    if (!checked.empty()) s += ", not " + checked;
    s += ". If the server is meant to be reached under one of those names, pass sni=" +
         (first.empty() ? std::string("NAME") : first) + " (the name to ask for and check); " +
         relax + "; a certificate from a private CA also needs ca=FILE.";
    return s;
  }
  if (f.verify_code == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
      f.verify_code == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
      f.verify_code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
      f.verify_code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
      f.verify_code == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE) {
    return "Its issuer (" + f.issuer +
           ") is not among the trusted CAs: for a private CA pass ca=FILE (that CA's "
           "certificate, PEM); " +
           relax + ".";
  }
  return "To " + relax.substr(3) + "; to trust its issuer pass ca=FILE.";
}

}  // namespace parley::net
