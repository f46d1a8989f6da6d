// The OpenSSL functions parley calls, defined here and loaded on first use (PARLEY_LAZY_OPENSSL,
// the default shared build): the binary does not link libssl.so.3 nor libcrypto.so.3, whose
// ~4,000 symbol relocations (Debian builds them with BIND_NOW) cost every start 3.4 M
// instructions, 72% of an empty script's, for the scripts that use TLS or crypto alone.
//
// Each function below is an extern "C" forwarder with OpenSSL's own prototype (the headers are
// included, so a prototype that differs from theirs does not compile). The first call of any of
// them dlopens both libraries once (thread-safe: a function-local static) and resolves every
// function with its symbol version; after that a call is one indirect jump, like the PLT's.
// Where OpenSSL cannot be loaded, parley says so on stderr and exits 3 (a TLS failure: see
// docs/core.md, Exit codes). The forwarders are hidden: libssl's own calls into libcrypto never
// bind to them. A function parley starts to call must be added to the table, or the link fails
// with an undefined reference.
#include <dlfcn.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

// X(return type, name, (parameters), (arguments)), one line per function, by name.
// clang-format off
#define PARLEY_OPENSSL_FUNCTIONS(X) \
  X(BIGNUM*, ASN1_INTEGER_to_BN, (const ASN1_INTEGER* ai, BIGNUM* bn), (ai, bn)) \
  X(const unsigned char*, ASN1_STRING_get0_data, (const ASN1_STRING* x), (x)) \
  X(int, ASN1_STRING_length, (const ASN1_STRING* x), (x)) \
  X(int, ASN1_TIME_to_tm, (const ASN1_TIME* s, struct tm* tm), (s, tm)) \
  X(long, BIO_ctrl, (BIO* bp, int cmd, long larg, void* parg), (bp, cmd, larg, parg)) \
  X(size_t, BIO_ctrl_pending, (BIO* b), (b)) \
  X(int, BIO_free, (BIO* a), (a)) \
  X(void, BIO_free_all, (BIO* a), (a)) \
  X(BIO*, BIO_new, (const BIO_METHOD* type), (type)) \
  X(int, BIO_new_bio_pair, (BIO* *bio1, size_t writebuf1, BIO* *bio2, size_t writebuf2), (bio1, writebuf1, bio2, writebuf2)) \
  X(BIO*, BIO_new_mem_buf, (const void* buf, int len), (buf, len)) \
  X(int, BIO_read, (BIO* b, void* data, int dlen), (b, data, dlen)) \
  X(const BIO_METHOD*, BIO_s_mem, (void), ()) \
  X(int, BIO_write, (BIO* b, const void* data, int dlen), (b, data, dlen)) \
  X(BIGNUM*, BN_bin2bn, (const unsigned char* s, int len, BIGNUM* ret), (s, len, ret)) \
  X(char*, BN_bn2hex, (const BIGNUM* a), (a)) \
  X(void, BN_free, (BIGNUM* a), (a)) \
  X(ASN1_INTEGER*, BN_to_ASN1_INTEGER, (const BIGNUM* bn, ASN1_INTEGER* ai), (bn, ai)) \
  X(void, CRYPTO_free, (void* ptr, const char* file, int line), (ptr, file, line)) \
  X(void, ERR_clear_error, (void), ()) \
  X(void, ERR_error_string_n, (unsigned long e, char* buf, size_t len), (e, buf, len)) \
  X(unsigned long, ERR_get_error, (void), ()) \
  X(const char*, ERR_reason_error_string, (unsigned long e), (e)) \
  X(int, EVP_DecodeBlock, (unsigned char* t, const unsigned char* f, int n), (t, f, n)) \
  X(int, EVP_Digest, (const void* data, size_t count, unsigned char* md, unsigned int* size, const EVP_MD* type, ENGINE* impl), (data, count, md, size, type, impl)) \
  X(int, EVP_EncodeBlock, (unsigned char* t, const unsigned char* f, int n), (t, f, n)) \
  X(int, EVP_MD_get_size, (const EVP_MD* md), (md)) \
  X(void, EVP_PKEY_CTX_free, (EVP_PKEY_CTX* ctx), (ctx)) \
  X(EVP_PKEY_CTX*, EVP_PKEY_CTX_new_from_name, (OSSL_LIB_CTX* libctx, const char* name, const char* propquery), (libctx, name, propquery)) \
  X(int, EVP_PKEY_CTX_set_group_name, (EVP_PKEY_CTX* ctx, const char* name), (ctx, name)) \
  X(void, EVP_PKEY_free, (EVP_PKEY* pkey), (pkey)) \
  X(int, EVP_PKEY_generate, (EVP_PKEY_CTX* ctx, EVP_PKEY* *ppkey), (ctx, ppkey)) \
  X(int, EVP_PKEY_keygen_init, (EVP_PKEY_CTX* ctx), (ctx)) \
  X(const EVP_MD*, EVP_get_digestbyname, (const char* name), (name)) \
  X(const EVP_MD*, EVP_sha256, (void), ()) \
  X(void, GENERAL_NAMES_free, (GENERAL_NAMES* a), (a)) \
  X(unsigned char*, HMAC, (const EVP_MD* evp_md, const void* key, int key_len, const unsigned char* data, size_t data_len, unsigned char* md, unsigned int* md_len), (evp_md, key, key_len, data, data_len, md, md_len)) \
  X(int, OPENSSL_sk_num, (const OPENSSL_STACK* st), (st)) \
  X(void*, OPENSSL_sk_value, (const OPENSSL_STACK* st, int i), (st, i)) \
  X(X509*, PEM_read_bio_X509, (BIO* out, X509* *x, pem_password_cb* cb, void* u), (out, x, cb, u)) \
  X(int, PEM_write_bio_X509, (BIO* out, const X509* x), (out, x)) \
  X(int, PKCS5_PBKDF2_HMAC, (const char* pass, int passlen, const unsigned char* salt, int saltlen, int iter, const EVP_MD* digest, int keylen, unsigned char* out), (pass, passlen, salt, saltlen, iter, digest, keylen, out)) \
  X(int, RAND_bytes, (unsigned char* buf, int num), (buf, num)) \
  X(const char*, SSL_CIPHER_get_name, (const SSL_CIPHER* c), (c)) \
  X(int, SSL_CTX_check_private_key, (const SSL_CTX* ctx), (ctx)) \
  X(long, SSL_CTX_ctrl, (SSL_CTX* ctx, int cmd, long larg, void* parg), (ctx, cmd, larg, parg)) \
  X(void, SSL_CTX_free, (SSL_CTX* ctx), (ctx)) \
  X(X509*, SSL_CTX_get0_certificate, (const SSL_CTX* ctx), (ctx)) \
  X(X509_STORE*, SSL_CTX_get_cert_store, (const SSL_CTX* ctx), (ctx)) \
  X(void*, SSL_CTX_get_default_passwd_cb_userdata, (SSL_CTX* ctx), (ctx)) \
  X(void*, SSL_CTX_get_ex_data, (const SSL_CTX* ssl, int idx), (ssl, idx)) \
  X(int, SSL_CTX_load_verify_dir, (SSL_CTX* ctx, const char* CApath), (ctx, CApath)) \
  X(int, SSL_CTX_load_verify_locations, (SSL_CTX* ctx, const char* CAfile, const char* CApath), (ctx, CAfile, CApath)) \
  X(SSL_CTX*, SSL_CTX_new, (const SSL_METHOD* meth), (meth)) \
  X(void, SSL_CTX_set_default_passwd_cb_userdata, (SSL_CTX* ctx, void* u), (ctx, u)) \
  X(int, SSL_CTX_set_default_verify_paths, (SSL_CTX* ctx), (ctx)) \
  X(int, SSL_CTX_set_ex_data, (SSL_CTX* ssl, int idx, void* data), (ssl, idx, data)) \
  X(uint64_t, SSL_CTX_set_options, (SSL_CTX* ctx, uint64_t op), (ctx, op)) \
  X(void, SSL_CTX_set_security_level, (SSL_CTX* ctx, int level), (ctx, level)) \
  X(void, SSL_CTX_set_verify, (SSL_CTX* ctx, int mode, SSL_verify_cb callback), (ctx, mode, callback)) \
  X(int, SSL_CTX_use_PrivateKey, (SSL_CTX* ctx, EVP_PKEY* pkey), (ctx, pkey)) \
  X(int, SSL_CTX_use_PrivateKey_file, (SSL_CTX* ctx, const char* file, int type), (ctx, file, type)) \
  X(int, SSL_CTX_use_certificate, (SSL_CTX* ctx, X509* x), (ctx, x)) \
  X(int, SSL_CTX_use_certificate_chain_file, (SSL_CTX* ctx, const char* file), (ctx, file)) \
  X(int, SSL_accept, (SSL* ssl), (ssl)) \
  X(int, SSL_connect, (SSL* ssl), (ssl)) \
  X(long, SSL_ctrl, (SSL* ssl, int cmd, long larg, void* parg), (ssl, cmd, larg, parg)) \
  X(void, SSL_free, (SSL* ssl), (ssl)) \
  X(void, SSL_get0_alpn_selected, (const SSL* ssl, const unsigned char* *data, unsigned int* len), (ssl, data, len)) \
  X(X509_VERIFY_PARAM*, SSL_get0_param, (SSL* ssl), (ssl)) \
  X(X509*, SSL_get1_peer_certificate, (const SSL* s), (s)) \
  X(const SSL_CIPHER*, SSL_get_current_cipher, (const SSL* s), (s)) \
  X(int, SSL_get_error, (const SSL* s, int ret_code), (s, ret_code)) \
  X(void*, SSL_get_ex_data, (const SSL* ssl, int idx), (ssl, idx)) \
  X(const char*, SSL_get_servername, (const SSL* s, const int type), (s, type)) \
  X(int, SSL_get_shutdown, (const SSL* ssl), (ssl)) \
  X(long, SSL_get_verify_result, (const SSL* ssl), (ssl)) \
  X(const char*, SSL_get_version, (const SSL* s), (s)) \
  X(SSL*, SSL_new, (SSL_CTX* ctx), (ctx)) \
  X(int, SSL_read, (SSL* ssl, void* buf, int num), (ssl, buf, num)) \
  X(int, SSL_set1_host, (SSL* s, const char* hostname), (s, hostname)) \
  X(void, SSL_set_bio, (SSL* s, BIO* rbio, BIO* wbio), (s, rbio, wbio)) \
  X(int, SSL_set_ex_data, (SSL* ssl, int idx, void* data), (ssl, idx, data)) \
  X(int, SSL_shutdown, (SSL* s), (s)) \
  X(int, SSL_write, (SSL* ssl, const void* buf, int num), (ssl, buf, num)) \
  X(const SSL_METHOD*, TLS_client_method, (void), ()) \
  X(const SSL_METHOD*, TLS_method, (void), ()) \
  X(const SSL_METHOD*, TLS_server_method, (void), ()) \
  X(X509_EXTENSION*, X509V3_EXT_conf_nid, (LHASH_OF(CONF_VALUE)* conf, X509V3_CTX* ctx, int ext_nid, const char* value), (conf, ctx, ext_nid, value)) \
  X(void, X509V3_set_ctx, (X509V3_CTX* ctx, X509* issuer, X509* subject, X509_REQ* req, X509_CRL* crl, int flags), (ctx, issuer, subject, req, crl, flags)) \
  X(void, X509_EXTENSION_free, (X509_EXTENSION* a), (a)) \
  X(int, X509_NAME_add_entry_by_txt, (X509_NAME* name, const char* field, int type, const unsigned char* bytes, int len, int loc, int set), (name, field, type, bytes, len, loc, set)) \
  X(int, X509_NAME_print_ex, (BIO* out, const X509_NAME* nm, int indent, unsigned long flags), (out, nm, indent, flags)) \
  X(int, X509_STORE_add_cert, (X509_STORE* ctx, X509* x), (ctx, x)) \
  X(int, X509_VERIFY_PARAM_set1_ip_asc, (X509_VERIFY_PARAM* param, const char* ipasc), (param, ipasc)) \
  X(void, X509_VERIFY_PARAM_set_hostflags, (X509_VERIFY_PARAM* param, unsigned int flags), (param, flags)) \
  X(int, X509_add_ext, (X509* x, X509_EXTENSION* ex, int loc), (x, ex, loc)) \
  X(int, X509_digest, (const X509* data, const EVP_MD* type, unsigned char* md, unsigned int* len), (data, type, md, len)) \
  X(void, X509_free, (X509* a), (a)) \
  X(const ASN1_TIME*, X509_get0_notAfter, (const X509* x), (x)) \
  X(const ASN1_TIME*, X509_get0_notBefore, (const X509* x), (x)) \
  X(const ASN1_INTEGER*, X509_get0_serialNumber, (const X509* x), (x)) \
  X(const char*, X509_get_default_cert_dir, (void), ()) \
  X(const char*, X509_get_default_cert_dir_env, (void), ()) \
  X(const char*, X509_get_default_cert_file, (void), ()) \
  X(const char*, X509_get_default_cert_file_env, (void), ()) \
  X(void*, X509_get_ext_d2i, (const X509* x, int nid, int* crit, int* idx), (x, nid, crit, idx)) \
  X(X509_NAME*, X509_get_issuer_name, (const X509* a), (a)) \
  X(ASN1_INTEGER*, X509_get_serialNumber, (X509* x), (x)) \
  X(X509_NAME*, X509_get_subject_name, (const X509* a), (a)) \
  X(ASN1_TIME*, X509_getm_notAfter, (const X509* x), (x)) \
  X(ASN1_TIME*, X509_getm_notBefore, (const X509* x), (x)) \
  X(ASN1_TIME*, X509_gmtime_adj, (ASN1_TIME* s, long adj), (s, adj)) \
  X(X509*, X509_new, (void), ()) \
  X(int, X509_set_issuer_name, (X509* x, const X509_NAME* name), (x, name)) \
  X(int, X509_set_pubkey, (X509* x, EVP_PKEY* pkey), (x, pkey)) \
  X(int, X509_set_version, (X509* x, long version), (x, version)) \
  X(int, X509_sign, (X509* x, EVP_PKEY* pkey, const EVP_MD* md), (x, pkey, md)) \
  X(const char*, X509_verify_cert_error_string, (long n), (n))
// clang-format on

namespace {

// Every function above is in OpenSSL 3.0's ABI; dlvsym asks for that version, as the link did.
constexpr const char* kVersion = "OPENSSL_3.0.0";

[[noreturn]] void cannot_load(const char* what) {
  std::fflush(nullptr);  // what the script printed and the transcript so far
  std::fprintf(stderr,
               "parley: TLS and crypto need OpenSSL 3, which cannot be loaded: %s "
               "(Debian: apt install libssl3)\n",
               what != nullptr ? what : "libssl.so.3");
  // Not exit(): another engine thread may be running; static destructors must not race it.
  ::_exit(3);
}

void* open_library(const char* soname) {
  void* lib = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);  // never closed
  if (lib == nullptr) cannot_load(::dlerror());
  return lib;
}

// The addresses; each starts at its stub below, which loads OpenSSL and calls on.
#define PARLEY_POINTER(ret, name, params, args) \
  ret first_##name params;                      \
  std::atomic<decltype(&::name)> real_##name{&first_##name};
PARLEY_OPENSSL_FUNCTIONS(PARLEY_POINTER)

bool resolve_all() {
  open_library("libcrypto.so.3");
  // libssl's handle finds libcrypto's functions too (its dependency): one lookup each.
  void* ssl = open_library("libssl.so.3");
#define PARLEY_RESOLVE(ret, name, params, args)                                                 \
  if (void* address = ::dlvsym(ssl, #name, kVersion)) {                                         \
    real_##name.store(reinterpret_cast<decltype(&::name)>(address), std::memory_order_release); \
  } else {                                                                                      \
    cannot_load(::dlerror());                                                                   \
  }
  PARLEY_OPENSSL_FUNCTIONS(PARLEY_RESOLVE)
  return true;
}

void load() {
  [[maybe_unused]] static const bool loaded = resolve_all();
}

#define PARLEY_STUB(ret, name, params, args)                 \
  ret first_##name params {                                  \
    load();                                                  \
    return real_##name.load(std::memory_order_acquire) args; \
  }
PARLEY_OPENSSL_FUNCTIONS(PARLEY_STUB)

}  // namespace

#define PARLEY_FORWARDER(ret, name, params, args)                    \
  extern "C" __attribute__((visibility("hidden"))) ret name params { \
    return real_##name.load(std::memory_order_acquire) args;         \
  }
PARLEY_OPENSSL_FUNCTIONS(PARLEY_FORWARDER)
