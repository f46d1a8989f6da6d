// The transcript: what each side said, in the arrows people know from telnet sessions and
// swaks, with every registered secret masked. Secrets are plain strings registered here; the
// masking applies only to text parley shows, never to what it sends.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
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
  /// Shared by the transcripts of one process (parley load runs an engine per thread): the
  /// warning about a short secret is given once for all of them. Null: once per transcript.
  std::shared_ptr<std::atomic<bool>> warned_short;
};

class Transcript {
 public:
  explicit Transcript(TranscriptOptions options);

  const TranscriptOptions& options() const { return options_; }
  /// Writes somewhere (the transcript is on, or a tap listens): else every line is dropped.
  bool active() const { return options_.enabled || tap_; }
  void set_options(TranscriptOptions options) { options_ = options; }

  /// Secrets shorter than this are masked only in the client's lines (what parley sent as a
  /// client, what a client sent to parley's servers: the commands and the AUTH exchange):
  /// masked everywhere, `password=mail` would turn `220 mail.test` into `220 ****.test`.
  static constexpr std::size_t kShortSecret = 6;
  /// How many derived forms (encodings computed from secrets) are kept, the oldest forgotten
  /// first: a long run computes new ones for every conversation (SCRAM proofs).
  static constexpr std::size_t kMaxDerived = 512;

  /// Registers a value to be shown as **** wherever it would appear. The first secret too short
  /// to mask everywhere gets a warning (once), unless `warn_short` is false (an encoding).
  void add_secret(std::string value, bool warn_short = true);
  /// Registers an encoding computed from a secret (base64, hex, a digest, a quoted form).
  void add_derived(std::string value);
  /// Whether `value` itself is registered.
  bool is_secret(std::string_view value) const;
  /// Whether `text` holds a registered secret (short ones included).
  bool holds_secret(std::string_view text) const;
  /// `text` with every registered secret replaced (unless --show-secrets). `client_line`: the
  /// text is a client's line, where short secrets are masked too.
  std::string mask(std::string_view text, bool client_line = false) const;

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
  void emit(int conn, std::string_view prefix, std::string_view text, const char* color,
            bool client_line = false);

  TranscriptOptions options_;

  struct Secret {
    std::string value;
    std::uint64_t derived = 0;  ///< 0: registered by the script; else the order of derivation
  };
  void insert(std::string value, std::uint64_t derived);

  std::vector<Secret> secrets_;  ///< longest first, so that one holding another is masked whole
  std::unordered_set<std::string> known_;
  std::uint64_t derived_seq_ = 0;
  std::size_t derived_count_ = 0;
  bool warned_short_ = false;
  std::function<void(int, const std::string&)> tap_;
  std::chrono::steady_clock::time_point start_;
};

/// Printable form of bytes: control characters and bytes >= 0x7f as \xNN, cut at `max` bytes.
std::string printable(std::string_view data, std::size_t max = 1000);

}  // namespace parley::report
