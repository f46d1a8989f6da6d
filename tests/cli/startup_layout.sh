#!/usr/bin/env bash
# PARLEY_STARTUP_ORDER: the functions every start runs lie in .text.parley_start, the section
# cmake/startup-order.ld gathers in front of .text (a start then touches a few 64 KB stretches
# of code instead of ~35). Fails when the section is missing or no longer holds them (a stale
# cmake/startup-order.ld: scripts/startup-order makes it again).
# Usage: startup_layout.sh PARLEY
set -uo pipefail
parley=$1
read -r start size < <(readelf -SW "$parley" | sed 's/^ *\[ *[0-9]*\]//' |
  awk '$1 == ".text.parley_start" { print $3, $5 }')
if [[ -z "${start:-}" ]]; then
  echo "FAIL no .text.parley_start section in $parley"
  exit 1
fi
start=$((16#$start)) size=$((16#$size))
echo "ok   .text.parley_start: $size bytes"
failed=0 checked=0
# main, the engine's construction and the run of a script: every `parley run` runs them.
for sym in main _ZN6parley6script6EngineC1ENS0_13EngineOptionsE \
  _ZN6parley6script6EngineC2ENS0_13EngineOptionsE _ZN6parley3cli10run_engineERNS0_6CommonERKSt8functionIFiRNS_6script6EngineEEE; do
  addr=$(nm --defined-only "$parley" | awk -v s="$sym" '$3 == s { print $1; exit }')
  [[ -z "$addr" ]] && continue  # not in this build (an alias, or inlined)
  addr=$((16#$addr))
  if ((addr >= start && addr < start + size)); then
    echo "ok   $sym"
    checked=$((checked + 1))
  else
    echo "FAIL $sym at $(printf 0x%x "$addr"), outside .text.parley_start"
    failed=1
  fi
done
if ((checked == 0)); then
  echo "FAIL none of the functions found in $parley"
  failed=1
fi
exit $failed
