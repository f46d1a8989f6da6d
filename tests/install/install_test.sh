#!/usr/bin/env bash
# `cmake --install` into a temporary prefix: the binary runs `parley demo`, every man page
# renders with `man -l`, the bash completion registers with `complete -p parley` and offers the
# options of `parley run --help`, the zsh and fish completions, the examples and the editor
# definitions (lua-types/) are there.
# Usage: install_test.sh BUILD_DIR
set -uo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
passed=0
failed=0
check() {
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name"
  fi
}

if ! cmake --install "$build" --prefix "$prefix" >"$prefix.log" 2>&1; then
  cat "$prefix.log"
  rm -f "$prefix.log"
  echo "FAIL: cmake --install"
  exit 1
fi
rm -f "$prefix.log"

check "bin/parley demo" timeout 60 "$prefix/bin/parley" demo -q
check "bin/parley version" "$prefix/bin/parley" version
pages=("$prefix"/share/man/man1/parley.1 "$prefix"/share/man/man7/parley-lua.7)
for page in "${pages[@]}"; do
  check "$(basename "$page") installed" test -f "$page"
  check "man -l $(basename "$page") renders" bash -c "MANWIDTH=80 man -l '$page' 2>&1 | grep -q '^NAME'"
  check "$(basename "$page") has the version" grep -q "$("$prefix/bin/parley" version | cut -d' ' -f2)" "$page"
done
# parley(1) describes every subcommand that `parley --help` lists.
for sub in $("$prefix/bin/parley" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && $1 { print $1 }'); do
  check "parley.1 describes $sub" grep -qx ".B $sub" "$prefix/share/man/man1/parley.1"
done
bash_completion=$prefix/share/bash-completion/completions/parley
check "bash completion installed" test -f "$bash_completion"
check "complete -p parley after sourcing it" \
  bash -c "source '$bash_completion' && complete -p parley | grep -q _parley"
# The completion offers what the command line defines: every long option of run --help.
for opt in $("$prefix/bin/parley" run --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
  check "bash completion offers run $opt" grep -q -- " $opt\b\|'$opt\b" "$bash_completion"
done
check "bash completion completes subcommands" bash -c "
  source '$bash_completion'
  COMP_WORDS=(parley lo); COMP_CWORD=1; _parley
  [[ \${COMPREPLY[*]} == load ]]"
check "bash completion completes load options" bash -c "
  source '$bash_completion'
  COMP_WORDS=(parley load --threa); COMP_CWORD=2; _parley
  [[ \${COMPREPLY[*]} == --threads ]]"
check "bash completion: a flag takes no value (files after -v)" bash -c "
  source '$bash_completion'
  cd '$prefix/share/doc/parley' && COMP_WORDS=(parley run -v exam); COMP_CWORD=3; _parley
  [[ \${COMPREPLY[*]} == examples ]]"
check "bash completion: after --timeout no options are offered" bash -c "
  source '$bash_completion'
  COMP_WORDS=(parley run --timeout -); COMP_CWORD=3; _parley
  [[ \${COMPREPLY[*]} != *--verbose* ]]"
check "zsh completion installed" grep -q '^#compdef parley' "$prefix/share/zsh/vendor-completions/_parley"
check "fish completion installed" grep -q -- "-l threads" "$prefix/share/fish/vendor_completions.d/parley.fish"
check "examples installed" test -f "$prefix/share/doc/parley/examples/quickstart.lua"
# The reference: every page of docs/, byte for byte.
for src in "$(dirname "$0")"/../../docs/*.md; do
  check "reference $(basename "$src") installed" cmp -s "$src" "$prefix/share/doc/parley/reference/$(basename "$src")"
done
# The editor definitions: every file of lua-types/, and the example .luarc.json points at them.
types=$prefix/share/parley/lua-types
for src in "$(dirname "$0")"/../../lua-types/*.lua; do
  check "lua-types/$(basename "$src") installed" cmp -s "$src" "$types/$(basename "$src")"
done
check "lua-types/parley.lua declares connect" grep -q '^function connect(' "$types/parley.lua"
check "examples/.luarc.json installed" grep -q '"workspace.library"' \
  "$prefix/share/doc/parley/examples/.luarc.json"
# Every module compiled into the binary loads from it, far from the source tree (the modules
# split into parts, parley.smtp.submit or parley.imap.encode, are found as the others are),
# and the split modules still offer what they re-export.
cat >"$prefix/modules.lua" <<'EOF'
local n = 0
for _, name in ipairs(package.parley_modules) do
  assert(type(require(name)) == "table", name .. " does not load as a table")
  n = n + 1
end
assert(n >= 30, "only " .. n .. " modules compiled in")
for _, name in ipairs { "parley.smtp.submit", "parley.smtp.args", "parley.smtp.check",
                        "parley.smtp.reply", "parley.imap.encode", "parley.imap.parse",
                        "parley.imap.utf7", "parley.imap.check", "parley.imap.mailbox",
                        "parley.pop3.check", "parley.pop3.mailbox", "parley.record.tape",
                        "parley.shell.script", "parley.testrun.report",
                        "parley.transcript.parse", "parley.transcript.run",
                        "parley.mock.imap.search", "parley.mock.sasl" } do
  assert(package.loaded[name], name .. " is not compiled in")
end
assert(require("parley.smtp").queue_id("2.0.0 Ok: queued as 4F1xyz") == "4F1xyz")
assert(require("parley.imap").encode({ "a b" })[1].text == '"a b"')
print("modules: " .. n)
EOF
check "every embedded module loads in the installed binary" \
  bash -c "cd '$prefix' && '$prefix/bin/parley' run -q modules.lua | grep -q '^modules: '"

echo "$passed passed, $failed failed"
((failed == 0))
