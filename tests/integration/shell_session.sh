#!/usr/bin/env bash
# parley shell driven through a terminal (tmux: keys in, screen out) against the real Postfix
# and Dovecot: SMTP (EHLO, .starttls, .auth plain alice with the password typed at the no-echo
# prompt, MAIL/RCPT/DATA, .save), POP3 and IMAP the same way; each saved script then passes
# under `parley run` and holds no password, nor does the history. Then the piped mode (a
# here-document, no terminal), and Ctrl-C stopping a wait without ending the session.
# Usage: shell_session.sh FIXTURE_DIR PARLEY
set -uo pipefail
dir=$1
parley=$2
here="$(cd "$(dirname "$0")" && pwd)"
command -v tmux >/dev/null || { echo "tmux is not installed (scripts/install-deps --test)"; exit 1; }
# shellcheck disable=SC1091
. "$dir/env"
work=$(mktemp -d)
sock="parley-shell-test-$$"
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"  # kill-server leaves its socket file
  rm -rf "$work"
}
trap cleanup EXIT
export PARLEY_HISTORY="$work/history"
failed=0
token="sh$$x$RANDOM"
ok() { echo "ok   $1"; }
bad() {
  echo "FAIL $1"
  { [[ -f "$work/screen" ]] && cat "$work/screen"; [[ -f "$work/out" ]] && cat "$work/out"; } |
    sed "s/$PASS1/<PASSWORD>/g" | tail -n 60 | sed 's/^/    /'
  failed=1
}

screen() { tmux -L "$sock" capture-pane -p -J -S -2000 -t shell >"$work/screen" 2>/dev/null; }
# wait_for REGEX [SECONDS]: until the screen shows REGEX
wait_for() {
  local deadline=$((SECONDS + ${2:-15}))
  while ((SECONDS < deadline)); do
    screen
    grep -Eq -- "$1" "$work/screen" && return 0
    sleep 0.2
  done
  return 1
}
type_line() { tmux -L "$sock" send-keys -t shell -l -- "$1"; tmux -L "$sock" send-keys -t shell Enter; }
# step WHAT LINE REGEX: types LINE, waits for REGEX
step() {
  type_line "$2"
  if wait_for "$3"; then return 0; fi
  bad "$1: no \"$3\" after typing \"$2\""
  return 1
}
start_shell() {  # start_shell ARGS...: parley shell in a fresh tmux session; exit status to $work/status
  rm -f "$work/status" "$work/screen"
  tmux -L "$sock" kill-server 2>/dev/null
  tmux -L "$sock" new-session -d -s shell -x 160 -y 50 \
    "$(printf '%q ' "$parley" shell --no-color --timeout 15 "$@"); echo \"status=\$?\" >$work/status; sleep 30"
}
ended() {  # ended WANT: the shell exited with WANT
  local deadline=$((SECONDS + 15))
  while ((SECONDS < deadline)); do
    [[ -f "$work/status" ]] && break
    sleep 0.2
  done
  [[ -f "$work/status" ]] && grep -q "status=$1" "$work/status"
}
no_password() {  # no_password FILE...
  ! grep -q -- "$PASS1" "$@"
}
password_prompt() {  # types the password at the prompt once it shows; it must not be echoed
  wait_for "Password for alice: *$" || { bad "$1: no password prompt"; return 1; }
  tmux -L "$sock" send-keys -t shell -l -- "$PASS1"
  tmux -L "$sock" send-keys -t shell Enter
}
replay() {  # replay WHAT FILE: parley run of a saved session passes
  timeout 60 "$parley" run --strict "$2" password="$PASS1" >"$work/out" 2>&1
  local rc=$?
  if [[ $rc == 0 ]] && no_password "$2" && ! grep -q "deprecated:" "$work/out"; then
    ok "$1: the saved script passes under parley run --strict, no password in it, no old names"
  else cp "$2" "$work/screen"; bad "$1: replay of the saved script (exit $rc)"; fi
}

# --- SMTP on the submission port -------------------------------------------------------------
start_shell --ca "$CA_FILE" "$HOST" "$SUBMISSION_PORT"
if wait_for '<- 220 ' &&
  step smtp "EHLO shell.test" '<- 250[ -]' &&
  step smtp ".starttls" 'verification: ok' &&
  step smtp "EHLO shell.test" '<~ 250[ -]AUTH' &&
  type_line ".auth plain alice" && password_prompt smtp &&
  wait_for '<~ 235' &&
  step smtp "MAIL FROM:<alice@$DOMAIN>" '<~ 250 2.1.0' &&
  step smtp "RCPT TO:<alice@$DOMAIN>" '<~ 250 2.1.5' &&
  step smtp "DATA" '<~ 354' &&
  type_line "Subject: shell $token" && type_line "" && type_line "typed in parley shell" &&
  type_line "..a line that starts with a dot" &&
  step smtp "." 'queued as' &&
  step smtp ".save $work/smtp.lua" 'saved to' &&
  step smtp "QUIT" 'server closed the connection'; then
  screen
  if ended 0; then ok "smtp: the session ends with the server's hang-up, exit 0"; else bad "smtp: exit status"; fi
  if grep -q 'AUTH PLAIN \*\*\*\*' "$work/screen" && no_password "$work/screen"; then ok "smtp: the password is neither echoed nor shown"
  else bad "smtp: password on the screen"; fi
  if grep -Eq '# 354: ready for the message data' "$work/screen"; then ok "smtp: replies carry their meaning"
  else bad "smtp: no meaning note"; fi
  if grep -q '~> \.a line that starts' "$work/screen"; then ok "smtp: '..' sends a line starting with '.'"
  else bad "smtp: dot escaping"; fi
  cp "$work/smtp.lua" "$work/out"
  if grep -q 'c:starttls' "$work/smtp.lua" && grep -q 's:auth("PLAIN", "alice", password' "$work/smtp.lua"; then
    ok "smtp: the saved script uses the library calls for STARTTLS and AUTH"
  else bad "smtp: saved script"; fi
  replay smtp "$work/smtp.lua"
  if timeout 60 "$parley" run -q "$here/../cli/imap_has_message.lua" host="$HOST" port="$IMAP_PORT" \
    ca="$CA_FILE" user="$USER1" password="$PASS1" subject="shell $token" >"$work/out" 2>&1; then
    ok "smtp: the message typed in the shell was delivered"
  else bad "smtp: the message typed in the shell was not delivered"; fi
fi

# --- POP3 ------------------------------------------------------------------------------------
start_shell --ca "$CA_FILE" --proto pop3 "$HOST" "$POP3_PORT"
if wait_for '<- \+OK' &&
  step pop3 "CAPA" '<- STLS' &&
  step pop3 ".starttls" 'verification: ok' &&
  type_line ".auth plain alice" && password_prompt pop3 &&
  wait_for '<~ \+OK Logged in' &&
  step pop3 "STAT" '<~ \+OK [0-9]+ [0-9]+' &&
  step pop3 "LIST" '<~ \.$' &&
  step pop3 ".save $work/pop3.lua" 'saved to' &&
  step pop3 "QUIT" 'server closed the connection'; then
  if ended 0; then ok "pop3: session ended, exit 0"; else bad "pop3: exit status"; fi
  replay pop3 "$work/pop3.lua"
fi

# --- IMAP ------------------------------------------------------------------------------------
start_shell --ca "$CA_FILE" --proto imap "$HOST" "$IMAP_PORT"
if wait_for '<- \* OK' &&
  step imap "a1 CAPABILITY" '<- a1 OK' &&
  step imap ".starttls" 'verification: ok' &&
  type_line ".auth plain alice" && password_prompt imap &&
  wait_for '<~ P[0-9]+ OK' &&
  step imap "a2 SELECT INBOX" '<~ a2 OK' &&
  step imap "a3 NOOP" '<~ a3 OK' &&
  step imap "a4 FETCH 999999 FLAGS" '<~ a4 BAD' &&
  step imap ".save $work/imap.lua" 'saved to' &&
  step imap "a5 LOGOUT" 'server closed the connection'; then
  if ended 0; then ok "imap: session ended, exit 0"; else bad "imap: exit status"; fi
  cp "$work/imap.lua" "$work/out"
  if grep -q 's:command("SELECT INBOX"' "$work/imap.lua" && grep -q '{ expect = "BAD" }' "$work/imap.lua"; then
    ok "imap: tags rewritten, tagged statuses expected"
  else bad "imap: saved script"; fi
  replay imap "$work/imap.lua"
fi

cp "$PARLEY_HISTORY" "$work/out" 2>/dev/null
if [[ -s "$PARLEY_HISTORY" ]] && grep -Eq '^EHLO(\\040| )shell.test' "$PARLEY_HISTORY" && no_password "$PARLEY_HISTORY"; then
  ok "history kept in PARLEY_HISTORY, without the password"
else bad "history"; fi

# --- Ctrl-C stops a wait; the session goes on ----------------------------------------------------
port_file="$work/port"
timeout 60 "$parley" run -q - >"$port_file" 2>/dev/null <<'LUA' &
local srv = listen { port = 0 }
print(srv.port); io.stdout:flush()
local c = srv:accept()
c:send("220 silent.test ready")
c:expect("NOOP", 30)        -- and no answer to it
local r = c:read_line(30)   -- the next line is answered
c:send("250 2.0.0 ok")
c:read_line(30)
c:send("221 bye"); c:close()
LUA
server=$!
for _ in $(seq 50); do [[ -s "$port_file" ]] && break; sleep 0.1; done
start_shell 127.0.0.1 "$(cat "$port_file")"
if wait_for '<- 220 silent' && type_line "NOOP" && sleep 1 &&
  tmux -L "$sock" send-keys -t shell C-c && wait_for 'stopped waiting' &&
  step ctrl-c "RSET" '<- 250 2.0.0 ok' &&
  step ctrl-c "QUIT" 'server closed'; then
  if ended 0; then ok "Ctrl-C stops a wait and the session goes on"; else bad "ctrl-c: exit status"; fi
fi
wait "$server" 2>/dev/null

# --- piped: a here-document, no prompts ----------------------------------------------------------
timeout 60 "$parley" shell --no-color --ca "$CA_FILE" "$HOST" "$SUBMISSION_PORT" >"$work/out" 2>&1 <<EOF
EHLO piped.test
.starttls
EHLO piped.test
.auth plain alice
$PASS1
MAIL FROM:<alice@$DOMAIN>
RCPT TO:<alice@$DOMAIN>
DATA
Subject: piped $token

from a here-document
.
.save $work/piped.lua
QUIT
EOF
rc=$?
if [[ $rc == 0 ]] && grep -q '<~ 235' "$work/out" && grep -q 'queued as' "$work/out" &&
  no_password "$work/out" && ! grep -q 'Password for' "$work/out"; then
  ok "piped: the session from a here-document (exit 0, no prompts, password masked)"
else bad "piped session (exit $rc)"; fi
replay piped "$work/piped.lua"

# USER/PASS and LOGIN typed by hand, as in the guides: masked, and saved as s:pass / s:login.
timeout 60 "$parley" shell --no-color --proto pop3 "$HOST" "$POP3_PORT" >"$work/out" 2>&1 <<EOF
USER alice
PASS $PASS1
STAT
.save $work/pop3-pass.lua
QUIT
EOF
rc=$?
if [[ $rc == 0 ]] && grep -q -- '-> PASS \*\*\*\*' "$work/out" && grep -q '<- +OK Logged in' "$work/out" &&
  no_password "$work/out" && grep -q 's:pass(password' "$work/pop3-pass.lua"; then
  ok "piped: POP3 PASS typed by hand is masked and saved as s:pass"
else bad "piped POP3 USER/PASS (exit $rc)"; fi
replay pop3-pass "$work/pop3-pass.lua"
timeout 60 "$parley" shell --no-color --proto imap "$HOST" "$IMAP_PORT" >"$work/out" 2>&1 <<EOF
x1 LOGIN alice $PASS1
x2 SELECT INBOX
.save $work/imap-login.lua
x3 LOGOUT
EOF
rc=$?
if [[ $rc == 0 ]] && grep -q -- '-> x1 LOGIN \*\*\*\*' "$work/out" && no_password "$work/out" &&
  grep -q 's:login("alice", password' "$work/imap-login.lua"; then
  ok "piped: IMAP LOGIN typed by hand is masked and saved as s:login"
else bad "piped IMAP LOGIN (exit $rc)"; fi
replay imap-login "$work/imap-login.lua"

# PASS typed with the wrong --proto (a POP3 server taken for SMTP): still masked, never saved.
timeout 60 "$parley" shell --no-color --proto smtp --timeout 3 "$HOST" "$POP3_PORT" >"$work/out" 2>&1 <<EOF
USER alice
PASS $PASS1
.save $work/wrong-proto.lua
QUIT
EOF
if no_password "$work/out" "$work/wrong-proto.lua" && grep -q -- '-> PASS \*\*\*\*' "$work/out"; then
  ok "a password typed by hand never shows nor is saved, whatever the protocol"
else bad "PASS with the wrong --proto"; fi

# A network failure ends the session with exit 3.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout 30 "$parley" shell 127.0.0.1 "$port" </dev/null >"$work/out" 2>&1
rc=$?
if [[ $rc == 3 ]]; then ok "nobody listening: exit 3"; else bad "nobody listening (exit $rc)"; fi
exit $failed
