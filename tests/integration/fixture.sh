#!/usr/bin/env bash
# The integration tests' mail servers, or the reason they are skipped.
#   fixture.sh start DIR       starts Postfix and Dovecot (scripts/fixture/mailservers); when
#                              they cannot be started here (not root, not installed), writes
#                              the reason to DIR/skipped and exits 77 (ctest: skipped), unless
#                              PARLEY_REQUIRE_MAILSERVERS=1 (scripts/test), where it fails
#   fixture.sh stop DIR        stops them (nothing to do after a skip)
#   fixture.sh run DIR CMD...  runs a test that needs them: exits 77 with the reason when the
#                              start was skipped, fails when it failed
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mailservers=$here/../../scripts/fixture/mailservers
action=$1
dir=$2
shift 2

case "$action" in
  start)
    rm -f "$dir/skipped"
    reason=""
    if [[ $(id -u) -ne 0 ]]; then
      reason="the mail servers need root (Postfix and Dovecot drop privileges themselves)"
    elif ! command -v postfix >/dev/null || ! command -v dovecot >/dev/null; then
      reason="Postfix or Dovecot is not installed (scripts/install-deps --test installs them)"
    fi
    if [[ -n $reason ]]; then
      if [[ ${PARLEY_REQUIRE_MAILSERVERS:-0} == 1 ]]; then
        echo "cannot start the mail servers: $reason" >&2
        exit 1
      fi
      mkdir -p "$dir"
      echo "$reason" >"$dir/skipped"
      echo "skipped: $reason"
      exit 77
    fi
    exec "$mailservers" start "$dir"
    ;;
  stop)
    if [[ -f "$dir/skipped" ]]; then exit 0; fi
    exec "$mailservers" stop "$dir"
    ;;
  run)
    if [[ -f "$dir/skipped" ]]; then
      echo "skipped: $(cat "$dir/skipped")"
      exit 77
    fi
    exec "$@"
    ;;
  *)
    echo "fixture.sh: start, stop or run, not $action" >&2
    exit 2
    ;;
esac
