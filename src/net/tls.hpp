// TLS contexts, certificate checks and the facts a person would look up with openssl s_client.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace parley::net {

namespace ssl = boost::asio::ssl;

/// What a client asks of a TLS handshake.
struct ClientTlsOptions {
  std::string host;    ///< what the script connected to: checked against the certificate
  std::string sni;     ///< server name sent; defaults to host when host is not an IP address
  bool verify = true;  ///< a failed check fails the handshake (after it, with the facts)
  std::string ca_file;
  std::string ca_pem;  ///< PEM text of certificates to trust (e.g. a listener's own)
  std::string cert_file;
  std::string key_file;
  std::string min_version;  ///< "1.0", "1.1", "1.2", "1.3" or empty
  std::string max_version;
};

/// The facts of a finished handshake.
struct TlsFacts {
  std::string version;
  std::string cipher;
  bool verified = false;
  std::string verify_error;  ///< why it was not verified
  long verify_code = 0;      ///< OpenSSL's X509_V_ERR_* code of verify_error (0: none)
  std::string sni;
  std::string alpn;
  bool has_peer_cert = false;
  std::string subject, issuer, serial;
  std::vector<std::string> sans;      ///< "DNS:name" or "IP:addr"
  std::string not_before, not_after;  ///< ISO 8601 UTC
  long long not_after_epoch = 0;
  std::string sha256;  ///< colon-separated upper-case hex
  std::string pem;
};

/// A context for client handshakes configured from the options. Throws std::runtime_error
/// with a clear message when a file cannot be loaded.
std::shared_ptr<ssl::context> make_client_context(const ClientTlsOptions& options);

/// A server context from PEM files, or, when both are empty, from a self-signed certificate
/// for localhost / 127.0.0.1 / ::1 made once per process. `cert_pem` receives the certificate.
std::shared_ptr<ssl::context> make_server_context(const std::string& cert_file,
                                                  const std::string& key_file,
                                                  std::string& cert_pem);

/// The same with a `profile` for the on-the-fly certificate: "" (the usual one), "expired" or
/// "wrong-host" (certificates a client's check must refuse, for tests). A profile goes
/// without cert_file and key_file.
std::shared_ptr<ssl::context> make_server_context(const std::string& cert_file,
                                                  const std::string& key_file,
                                                  std::string& cert_pem,
                                                  const std::string& profile);

/// Sets SNI and the name or address to check on a client SSL object before the handshake.
void prepare_client(SSL* ssl, const ClientTlsOptions& options);

TlsFacts collect_facts(SSL* ssl);

/// What a person can do about a certificate that failed the check, for error messages: for a
/// name mismatch the names the certificate carries and `sni=`, for an unknown issuer `ca=`,
/// and `verify=false` in every case. `checked` is the name or address that was checked.
std::string verify_advice(const TlsFacts& facts, const std::string& checked);

/// True when `host` is an IPv4 or IPv6 literal.
bool is_ip_literal(const std::string& host);

/// The last OpenSSL error queue entries, as text (empties the queue).
std::string openssl_errors();

}  // namespace parley::net
