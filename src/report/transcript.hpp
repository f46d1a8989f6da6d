// The transcript: what each side said, in the arrows people know from telnet sessions and
// swaks, with every registered secret masked.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::report {

/// Who spoke: the server (`<-`, `<~` under TLS) or the client (` ->`, ` ~>`).
enum class Speaker { server, client };

struct TranscriptOptions {
  std::FILE* out = stderr;
  bool enabled = true;
  bool verbose = false;  ///< timestamps and server-side connections
  bool color = false;
  bool show_secrets = false;
};

class Transcript {
 public:
  explicit Transcript(TranscriptOptions options);

  const TranscriptOptions& options() const { return options_; }
  void set_options(TranscriptOptions options) { options_ = options; }

  /// Registers a value to be shown as **** wherever it would appear.
  void add_secret(std::string value);
  /// `text` with every registered secret replaced (unless --show-secrets).
  std::string mask(std::string_view text) const;

  /// One protocol line (without its line end) on connection `conn`.
  void line(int conn, Speaker who, bool tls, std::string_view text);
  /// Received or sent bytes, split into lines; a missing final line end is marked.
  void bytes(int conn, Speaker who, bool tls, std::string_view data);
  /// An event: connect, handshake, close ("=== ...").
  void note(int conn, std::string_view text);
  /// A warning, printed even at -q.
  void warn(std::string_view text);

  /// Also hands every transcript line (masked, without colors) to `tap`, printed or not
  /// (`parley test` keeps each case's transcript for its report).
  void set_tap(std::function<void(int conn, const std::string& line)> tap) {
    tap_ = std::move(tap);
  }

 private:
  void emit(int conn, std::string_view prefix, std::string_view text, const char* color);

  TranscriptOptions options_;
  bool active() const { return options_.enabled || tap_; }

  std::vector<std::string> secrets_;
  std::function<void(int, const std::string&)> tap_;
  std::chrono::steady_clock::time_point start_;
};

/// Printable form of bytes: control characters and bytes >= 0x7f as \xNN, cut at `max` bytes.
std::string printable(std::string_view data, std::size_t max = 1000);

}  // namespace parley::report
