#!/usr/bin/env bash
# Builds the Debian package of BUILD_DIR (cpack -G DEB, dependencies from dpkg-shlibdeps) and
# checks it: its dependencies name the shared libraries (libedit2 and libssl3 too, which the
# binary loads itself), `parley demo` runs from the extracted package, `man -l` renders its pages, its
# completions are in the vendor directories, the editor definitions are in
# /usr/share/parley/lua-types.
# Usage: deb_test.sh BUILD_DIR        (run by scripts/test)
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
check() {
  local name=$1
  shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failed=1; fi
}

rm -f "$build"/parley_*.deb
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$build"/parley_*.deb)
echo "package: $deb"
dpkg-deb -I "$deb" >"$work/info"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
check "depends on libssl3" grep -q "libssl3" <<<"$depends"
check "depends on liblua5.4-0" grep -q "liblua5.4-0" <<<"$depends"
dpkg-deb -x "$deb" "$work/root"
# parley shell loads libedit.so.2 itself (dlopen), out of dpkg-shlibdeps' sight; a static build
# links it in instead.
if grep -qa 'libedit\.so\.2' "$work/root/usr/bin/parley"; then
  check "depends on libedit2 (parley shell loads libedit.so.2)" grep -q "libedit2" <<<"$depends"
fi
# The shared build loads OpenSSL at its first TLS or crypto call (dlopen of libssl.so.3 and
# libcrypto.so.3), without DT_NEEDED; the static build links it in.
if grep -qa 'libssl\.so\.3' "$work/root/usr/bin/parley"; then
  check "depends on libssl3 (>= 3.0.0) (parley loads libssl.so.3 itself)" \
    grep -q "libssl3 (>= 3\.0\.0)" <<<"$depends"
fi
check "usr/bin/parley demo" timeout 60 "$work/root/usr/bin/parley" demo -q
for page in "$work"/root/usr/share/man/man*/*; do
  check "man -l $(basename "$page")" bash -c "man -l '$page' 2>&1 | grep -q '^NAME'"
done
check "bash completion" test -f "$work/root/usr/share/bash-completion/completions/parley"
check "zsh completion" test -f "$work/root/usr/share/zsh/vendor-completions/_parley"
check "fish completion" test -f "$work/root/usr/share/fish/vendor_completions.d/parley.fish"
check "examples" test -f "$work/root/usr/share/doc/parley/examples/quickstart.lua"
for src in "$(dirname "$0")"/../../docs/*.md; do
  check "reference $(basename "$src")" cmp -s "$src" "$work/root/usr/share/doc/parley/reference/$(basename "$src")"
done
# Every module compiled into the binary loads from the packaged one (the split parts too).
check "every embedded module loads" bash -c "cd '$work' && '$work/root/usr/bin/parley' run -q -e '
  for _, n in ipairs(package.parley_modules) do assert(require(n), n) end
  print(\"loaded \" .. #package.parley_modules)' | grep -q '^loaded '"
for src in "$(dirname "$0")"/../../lua-types/*.lua; do
  check "lua-types/$(basename "$src")" cmp -s "$src" "$work/root/usr/share/parley/lua-types/$(basename "$src")"
done
check "examples/.luarc.json names /usr/share/parley/lua-types" \
  grep -q '/usr/share/parley/lua-types' "$work/root/usr/share/doc/parley/examples/.luarc.json"
exit $failed
