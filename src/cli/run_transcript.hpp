// `parley run FILE` and transcripts: a file that does not compile as Lua runs as a transcript
// (lua/parley/transcript.lua parses it and plays it against the server).
#pragma once

#include <string>

#include "script/engine.hpp"

namespace parley::cli {

struct TranscriptFlags {
  bool exact = false;         ///< --exact: compare reply texts too (volatile words left out)
  bool ask_password = false;  ///< --ask-password: replay AUTH with a password asked for
};

/// Runs `path` as a Lua script when it compiles as one, else as a transcript.
int run_script_or_transcript(script::Engine& engine, const std::string& path,
                             const TranscriptFlags& flags);

}  // namespace parley::cli
