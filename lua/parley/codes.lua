--- Reply-code knowledge for SMTP, POP3 and IMAP.
--
-- What a mail administrator wants to know about a reply: what the SMTP code means (RFC 5321,
-- plus AUTH codes from RFC 4954 and 521/556 from RFC 7504), what the enhanced status code
-- means (RFC 3463 and the later entries of the IANA registry), which codes are legitimate
-- answers to which command (RFC 5321 section 4.3.2, RFC 4954, RFC 3207, RFC 3030), and what
-- the bracketed response codes of POP3 (RFC 2449, 3206, 6856) and IMAP (RFC 3501, 9051,
-- 4315, 5530, ...) say. The wording is ours; the facts come from the RFCs.
--
-- Used by the engine for failure messages (`meaning`), by `--strict` (`check_grammar`) and by
-- `parley explain` (`explain`). Pure Lua 5.4, no C dependencies.
--
-- @module parley.codes

local M = {}

local concat, sort, insert = table.concat, table.sort, table.insert
local fmt = string.format

---------------------------------------------------------------------------------------------
-- SMTP basic reply codes
---------------------------------------------------------------------------------------------

--- Meaning of the first digit of an SMTP reply code (RFC 5321 section 4.2.1).
-- `name` is the RFC's category, `text` what it means in practice.
M.first_digit = {
  [1] = { name = "positive preliminary",
          text = "the action has started and another reply will follow (not used by SMTP)" },
  [2] = { name = "positive completion",
          text = "the request succeeded; the client may send its next command" },
  [3] = { name = "positive intermediate",
          text = "accepted so far; the server waits for more input (message data, an AUTH response)" },
  [4] = { name = "transient negative completion",
          text = "refused for now; the same request may succeed if it is tried again later" },
  [5] = { name = "permanent negative completion",
          text = "refused; sending the same request again unchanged will fail again" },
}

--- Meaning of the second digit of an SMTP reply code (RFC 5321 section 4.2.1).
M.second_digit = {
  [0] = { name = "syntax",
          text = "a syntax problem, or a command outside any functional group (unknown, "
              .. "unimplemented, superfluous)" },
  [1] = { name = "information", text = "an answer to a request for information (status, help)" },
  [2] = { name = "connections", text = "about the transmission channel (greeting, closing, service availability)" },
  [3] = { name = "unspecified (authentication)",
          text = "left unspecified by RFC 5321; used for authentication and security replies "
              .. "(RFC 4954 AUTH, RFC 3207 STARTTLS policy)" },
  [4] = { name = "unspecified", text = "left unspecified by RFC 5321" },
  [5] = { name = "mail system",
          text = "the state of the receiving mail system with respect to the request "
              .. "(mailboxes, storage, policy)" },
}

--- Known SMTP reply codes: `text` (meaning), `hint` (usual cause / what to do), `rfc`
-- (where it is defined) and `usual` (the enhanced code normally sent with it, if any).
M.smtp_codes = {
  [211] = { rfc = "RFC 5321", text = "system status or help reply",
            hint = "An answer to HELP or a status query; informational only." },
  [214] = { rfc = "RFC 5321", text = "help message for a human reader",
            hint = "An answer to HELP; the text is meant for people, not programs." },
  [220] = { rfc = "RFC 5321", text = "service ready (greeting, or ready to start TLS after STARTTLS)",
            hint = "Sent when the connection opens, naming the server. After STARTTLS it means: "
                .. "start the TLS handshake now." },
  [221] = { rfc = "RFC 5321", text = "service closing the connection",
            hint = "The normal answer to QUIT; the server closes the connection after it." },
  [235] = { rfc = "RFC 4954", text = "authentication succeeded", usual = "2.7.0",
            hint = "AUTH is complete; the session is now authenticated." },
  [250] = { rfc = "RFC 5321", text = "requested action completed",
            hint = "Success. After EHLO, the further lines list the extensions the server offers." },
  [251] = { rfc = "RFC 5321", text = "recipient not local, the server will forward the message",
            hint = "Accepted: the server relays to another address. Rarely seen today." },
  [252] = { rfc = "RFC 5321",
            text = "cannot verify the user, but the server will accept mail for it and try to deliver",
            hint = "The usual answer to VRFY when address verification is turned off to stop "
                .. "address harvesting." },
  [334] = { rfc = "RFC 4954", text = "authentication challenge: send the next response",
            hint = "The text is a base64 challenge (possibly empty). Answer with one base64 line, "
                .. "or '*' to cancel the exchange." },
  [354] = { rfc = "RFC 5321", text = "ready for the message data, ended by a line holding a single dot",
            hint = "Send header and body; a line starting with '.' gets an extra '.' (dot-stuffing); "
                .. "finish with CRLF.CRLF." },
  [421] = { rfc = "RFC 5321", text = "service not available, the server is closing the connection",
            hint = "Shutdown, overload, too many connections from your address, or an idle timeout. "
                .. "Can answer any command. Try again later." },
  [432] = { rfc = "RFC 4954", text = "a password transition is needed", usual = "4.7.12",
            hint = "Authenticate once with a plaintext mechanism (e.g. PLAIN over TLS) so the server "
                .. "can derive the credentials the requested mechanism needs." },
  [450] = { rfc = "RFC 5321", text = "mailbox temporarily unavailable (action not taken)",
            hint = "Mailbox busy or locked, greylisting, or a temporary policy block. A sender "
                .. "should queue and retry." },
  [451] = { rfc = "RFC 5321", text = "action aborted: local error in processing",
            hint = "Trouble on the server side: a DNS lookup, a content filter or milter, a database. "
                .. "Greylisting also uses it. Look in the server's log; senders retry." },
  [452] = { rfc = "RFC 5321", text = "action not taken: insufficient system storage",
            hint = "Disk or queue full on the server. In answer to RCPT it also means too many "
                .. "recipients in this transaction: send the rest in a new one." },
  [454] = { rfc = "RFC 3207, RFC 4954",
            text = "TLS or authentication temporarily unavailable", usual = "4.7.0",
            hint = "After STARTTLS: the server cannot start TLS (certificate or key problem). After "
                .. "AUTH: the authentication backend is unreachable. Retry later; check the "
                .. "server's TLS and authentication setup." },
  [455] = { rfc = "RFC 5321", text = "server cannot accommodate the parameters now",
            hint = "A MAIL or RCPT parameter (SIZE, for instance) cannot be honoured at the moment; "
                .. "retry later or without it." },
  [500] = { rfc = "RFC 5321", text = "syntax error: command not recognised (or line too long)",
            hint = "A typo, a command the server does not know, a line over the length limit, or "
                .. "another protocol talking to an SMTP port. With 5.5.6 after AUTH: the "
                .. "authentication line was too long." },
  [501] = { rfc = "RFC 5321", text = "syntax error in parameters or arguments",
            hint = "Check the argument format: addresses in angle brackets (MAIL FROM:<a@b.example>), "
                .. "a valid EHLO name, proper base64 in AUTH; '*' cancelling AUTH also yields 501." },
  [502] = { rfc = "RFC 5321", text = "command not implemented",
            hint = "The server knows the command but does not offer it here, e.g. VRFY or EXPN "
                .. "disabled, AUTH or STARTTLS not advertised." },
  [503] = { rfc = "RFC 5321", text = "bad sequence of commands",
            hint = "A command out of order: RCPT before MAIL, DATA without an accepted recipient, "
                .. "MAIL before EHLO, AUTH when already authenticated or inside a transaction." },
  [504] = { rfc = "RFC 5321", text = "command parameter not implemented",
            hint = "The command exists but not with this parameter, e.g. an AUTH mechanism the "
                .. "server does not offer." },
  [521] = { rfc = "RFC 7504", text = "this host does not accept mail at all", usual = "5.3.2",
            hint = "The host never takes mail (it is not a mail server). Do not retry; deliver to "
                .. "the domain's real MX." },
  [530] = { rfc = "RFC 4954, RFC 3207",
            text = "authentication required (or STARTTLS required first)", usual = "5.7.0",
            hint = "Authenticate with AUTH, often after STARTTLS, before MAIL. Typical on the "
                .. "submission port 587." },
  [534] = { rfc = "RFC 4954", text = "authentication mechanism too weak", usual = "5.7.9",
            hint = "Policy forbids this mechanism here (e.g. PLAIN or LOGIN without TLS). Use a "
                .. "stronger mechanism or STARTTLS first." },
  [535] = { rfc = "RFC 4954", text = "authentication credentials invalid", usual = "5.7.8",
            hint = "Wrong user name or password, or the wrong form of the user name (full address "
                .. "versus local part). Check the base64 encoding of the credentials too." },
  [538] = { rfc = "RFC 4954", text = "encryption required for the requested authentication mechanism",
            usual = "5.7.11",
            hint = "Issue STARTTLS (or connect with implicit TLS) before AUTH with this mechanism." },
  [550] = { rfc = "RFC 5321", text = "mailbox unavailable (requested action not taken)",
            hint = "Usually no such user, relaying denied, or a policy or spam block; the enhanced "
                .. "code and the text say which. Permanent: fix the address or the policy rather "
                .. "than retrying." },
  [551] = { rfc = "RFC 5321", text = "recipient not local, try the forward path the server gives",
            hint = "The server will not relay for this address; the text may name the right one. "
                .. "Rarely used." },
  [552] = { rfc = "RFC 5321", text = "action aborted: storage allocation exceeded",
            hint = "Message too large (compare with the SIZE value in the EHLO reply) or the "
                .. "mailbox is over quota." },
  [553] = { rfc = "RFC 5321", text = "action not taken: mailbox name not allowed",
            hint = "The address is malformed or not permitted, e.g. a sender address the "
                .. "authenticated user may not use." },
  [554] = { rfc = "RFC 5321", text = "transaction failed (as a greeting: no SMTP service here)",
            hint = "After the data: content rejected (spam, virus, policy). As the greeting: the "
                .. "client's address is blocked. Some servers also use it for relay refusals." },
  [555] = { rfc = "RFC 5321", text = "MAIL FROM or RCPT TO parameters not recognised or not implemented",
            hint = "An ESMTP parameter (SIZE=, BODY=, SMTPUTF8, NOTIFY=...) that the server did not "
                .. "advertise; compare with its EHLO reply." },
  [556] = { rfc = "RFC 7504", text = "the recipient's domain does not accept mail", usual = "5.1.10",
            hint = "The domain publishes a null MX (RFC 7505): the address can never receive mail." },
}

---------------------------------------------------------------------------------------------
-- Which replies may answer which command
---------------------------------------------------------------------------------------------

-- Commands in the order they are shown to people.
local COMMAND_ORDER = {
  "GREETING", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "DATA_END", "BDAT",
  "RSET", "VRFY", "EXPN", "HELP", "NOOP", "QUIT",
}

local COMMAND_LABEL = {
  GREETING = "the connection greeting", DATA_END = "DATA (after the final dot)",
}

--- Valid replies per command. `success`, `intermediate` and `error` are the codes listed by
-- the RFCs (RFC 5321 section 4.3.2; AUTH per RFC 4954; STARTTLS per RFC 3207; BDAT per RFC
-- 3030; 530 per RFC 4954 section 6 and RFC 3207 section 4; 521 and 556 per RFC 7504).
-- `common` lists codes the RFCs do not name for that command but which widely deployed
-- servers send there (for instance 554 for a relay refusal at RCPT); `valid_for` accepts them
-- so that `--strict` does not fail on ordinary servers. Independently of this table, 421 may
-- answer anything, and 500 and 501 may answer any command (RFC 5321 section 4.3.2).
M.replies = {
  GREETING = { rfc = "RFC 5321, RFC 7504", success = { 220 }, error = { 554, 521 } },
  EHLO = { rfc = "RFC 5321", success = { 250 }, error = { 504, 550, 502, 521 } },
  HELO = { rfc = "RFC 5321", success = { 250 }, error = { 504, 550, 502, 521, 530 } },
  MAIL = { rfc = "RFC 5321", success = { 250 },
           error = { 552, 451, 452, 550, 553, 503, 455, 555, 521, 530 },
           common = { 450, 554 } },
  RCPT = { rfc = "RFC 5321", success = { 250, 251 },
           error = { 550, 551, 552, 553, 450, 451, 452, 503, 455, 555, 521, 530, 556 },
           common = { 554 } },
  DATA = { rfc = "RFC 5321", intermediate = { 354 }, error = { 503, 554, 521, 530 },
           common = { 450, 451, 452, 550 } },
  DATA_END = { rfc = "RFC 5321", success = { 250 }, error = { 552, 554, 451, 452, 450, 550 },
               common = { 553 } },
  BDAT = { rfc = "RFC 3030", success = { 250 },
           error = { 552, 554, 451, 452, 450, 550, 503, 502, 504, 521, 530 } },
  RSET = { rfc = "RFC 5321", success = { 250 }, error = { 521, 530 } },
  VRFY = { rfc = "RFC 5321", success = { 250, 251, 252 }, error = { 550, 551, 553, 502, 504, 521, 530 } },
  EXPN = { rfc = "RFC 5321", success = { 250, 252 }, error = { 550, 500, 502, 504, 521, 530 } },
  HELP = { rfc = "RFC 5321", success = { 211, 214 }, error = { 502, 504, 521, 530 } },
  NOOP = { rfc = "RFC 5321", success = { 250 }, error = { 521 } },
  QUIT = { rfc = "RFC 5321", success = { 221 }, error = {} },
  AUTH = { rfc = "RFC 4954", success = { 235 }, intermediate = { 334 },
           error = { 432, 454, 500, 501, 502, 503, 504, 521, 530, 534, 535, 538 } },
  STARTTLS = { rfc = "RFC 3207", success = { 220 }, error = { 454, 501, 502, 521 },
               common = { 503, 554 } },
}

local COMMAND_ALIASES = {
  CONNECT = "GREETING", CONNECTION = "GREETING", BANNER = "GREETING", GREETING = "GREETING",
  DATA_END = "DATA_END", DATAEND = "DATA_END", END_OF_DATA = "DATA_END", EOD = "DATA_END",
  DOT = "DATA_END", ["."] = "DATA_END", LHLO = "EHLO",
}

-- code -> true, per command, built once from M.replies: valid_sets holds every accepted code,
-- rfc_sets only those the RFCs name (without the `common` ones).
local valid_sets, rfc_sets = {}, {}
for name, entry in pairs(M.replies) do
  local set = { [421] = true }
  if name ~= "GREETING" then set[500], set[501] = true, true end
  for _, field in ipairs({ "success", "intermediate", "error" }) do
    for _, c in ipairs(entry[field] or {}) do set[c] = true end
  end
  local rfc = {}
  for c in pairs(set) do rfc[c] = true end
  for _, c in ipairs(entry.common or {}) do set[c] = true end
  valid_sets[name], rfc_sets[name] = set, rfc
end

---------------------------------------------------------------------------------------------
-- RFC 3463 enhanced status codes
---------------------------------------------------------------------------------------------

--- Enhanced status code classes (RFC 3463 section 3.1).
M.enhanced_classes = {
  [2] = { name = "success", text = "the action succeeded" },
  [4] = { name = "persistent transient failure",
          text = "the message is valid, but a temporary condition stopped it; a later attempt may succeed" },
  [5] = { name = "permanent failure",
          text = "resending it unchanged will not work; the message or the destination must change" },
}

--- Enhanced status code subjects (RFC 3463 section 3.2), keyed by the subject number.
M.enhanced_subjects = {
  [0] = { name = "other or undefined status", text = "no more specific information is available" },
  [1] = { name = "addressing status",
          text = "the sender or recipient address: its syntax, whether it exists or moved" },
  [2] = { name = "mailbox status",
          text = "the destination mailbox, which exists: whether it takes mail (full, disabled)" },
  [3] = { name = "mail system status",
          text = "the destination mail system as a whole (storage, configuration, supported features)" },
  [4] = { name = "network and routing status",
          text = "reaching the destination: DNS, connections, routing, delays" },
  [5] = { name = "mail delivery protocol status",
          text = "the SMTP conversation itself: unknown commands, syntax, limits" },
  [6] = { name = "message content or media status",
          text = "the content of the message: media types, conversions, character sets" },
  [7] = { name = "security or policy status",
          text = "authentication, authorization, encryption and anti-abuse policy" },
}

--- Enhanced status details keyed "subject.detail" (without the class): `text` (its meaning
-- with a failure class, 4 or 5), optional `hint` (for a failure), and `rfc`. RFC 3463 defines
-- X.0.0 to X.7.7; later entries come from the IANA registry created by RFC 5248.
-- The meaning depends on the class: the "other or undefined" details X.N.0 have `success`
-- (their meaning with class 2: "235 2.7.0" is a security step that went well) and `any` (the
-- RFC's wording, for "X.7.0"); `any` alone marks a detail that reads the same with every class
-- (X.1.9, X.3.6, X.6.4); `positive = true` a detail that reports a success (X.1.5).
M.enhanced_codes = {
  ["0.0"] = { rfc = "RFC 3463", text = "other or undefined status",
              success = "ok (no more specific status)", any = "other or undefined status",
              hint = "Only the class is meaningful; read the text of the reply.", hint_any = true },

  ["1.0"] = { rfc = "RFC 3463", text = "other address problem",
              success = "address: ok", any = "other address status" },
  ["1.1"] = { rfc = "RFC 3463", text = "bad destination mailbox address",
              hint = "The local part does not exist at the destination: a typo, or a deleted mailbox." },
  ["1.2"] = { rfc = "RFC 3463", text = "bad destination system address",
              hint = "The recipient domain does not exist or does not take mail; check its spelling "
                  .. "and its MX and A records." },
  ["1.3"] = { rfc = "RFC 3463", text = "bad destination mailbox address syntax",
              hint = "The recipient address is malformed (missing angle brackets, illegal characters)." },
  ["1.4"] = { rfc = "RFC 3463", text = "destination mailbox address ambiguous",
              hint = "The address matches more than one mailbox at the destination." },
  ["1.5"] = { rfc = "RFC 3463", text = "destination address valid", positive = true,
              hint = "A success detail: the recipient is accepted." },
  ["1.6"] = { rfc = "RFC 3463", text = "destination mailbox has moved, no forwarding address",
              hint = "The mailbox once existed; find the person's new address." },
  ["1.7"] = { rfc = "RFC 3463", text = "bad sender mailbox address syntax",
              hint = "The MAIL FROM address is malformed." },
  ["1.8"] = { rfc = "RFC 3463", text = "bad sender system address",
              hint = "The sender's domain does not exist or cannot receive replies; use a sender "
                  .. "domain that resolves in DNS." },
  ["1.9"] = { rfc = "RFC 3886", text = "message relayed to a mailer that cannot report further status",
              any = "message relayed to a mailer that cannot report further status" },
  ["1.10"] = { rfc = "RFC 7505", text = "recipient domain has a null MX and accepts no mail",
               hint = "The domain states it never receives mail; the address is unusable." },

  ["2.0"] = { rfc = "RFC 3463", text = "other or undefined mailbox problem",
              success = "mailbox: ok", any = "other or undefined mailbox status" },
  ["2.1"] = { rfc = "RFC 3463", text = "mailbox disabled, not accepting messages",
              hint = "The mailbox exists but is switched off (suspended or closed account)." },
  ["2.2"] = { rfc = "RFC 3463", text = "mailbox full",
              hint = "The recipient is over quota. As 4.2.2 senders keep retrying; as 5.2.2 the "
                  .. "message bounces." },
  ["2.3"] = { rfc = "RFC 3463", text = "message larger than the mailbox's size limit",
              hint = "A per-mailbox limit on message size; send a smaller message." },
  ["2.4"] = { rfc = "RFC 3463", text = "mailing list expansion problem",
              hint = "The list address is valid but could not be expanded into its members." },

  ["3.0"] = { rfc = "RFC 3463", text = "other or undefined mail system problem",
              success = "mail system: ok",
              any = "other or undefined mail system status" },
  ["3.1"] = { rfc = "RFC 3463", text = "mail system full",
              hint = "The server's storage is exhausted; the administrator must free space." },
  ["3.2"] = { rfc = "RFC 3463", text = "system not accepting network messages",
              hint = "Shutting down, in maintenance, overloaded, or (with 521) never a mail host." },
  ["3.3"] = { rfc = "RFC 3463", text = "system not capable of the selected features" },
  ["3.4"] = { rfc = "RFC 3463", text = "message too big for the system",
              hint = "Larger than the server-wide limit; compare with SIZE in the EHLO reply." },
  ["3.5"] = { rfc = "RFC 3463", text = "system incorrectly configured",
              hint = "A configuration error at the receiving system; tell its administrator." },
  ["3.6"] = { rfc = "RFC 6710", text = "requested priority was changed",
              any = "requested priority was changed" },

  ["4.0"] = { rfc = "RFC 3463", text = "other or undefined network or routing problem",
              success = "network and routing: ok",
              any = "other or undefined network or routing status" },
  ["4.1"] = { rfc = "RFC 3463", text = "no answer from host",
              hint = "The next hop did not accept the connection: down, firewalled, or port 25 blocked." },
  ["4.2"] = { rfc = "RFC 3463", text = "bad connection",
              hint = "The connection was made but broke or timed out during the transaction." },
  ["4.3"] = { rfc = "RFC 3463", text = "directory server failure",
              hint = "A DNS (or directory) lookup failed temporarily; check the resolver." },
  ["4.4"] = { rfc = "RFC 3463", text = "unable to route",
              hint = "No MX or A record, or no route to the next hop for this domain." },
  ["4.5"] = { rfc = "RFC 3463", text = "mail system congestion",
              hint = "Too busy right now; often a rate limit. Retry later and more slowly." },
  ["4.6"] = { rfc = "RFC 3463", text = "routing loop detected",
              hint = "Too many Received: hops; two systems forward the mail to each other." },
  ["4.7"] = { rfc = "RFC 3463", text = "delivery time expired",
              hint = "The message sat in a queue longer than the retry period allows." },

  ["5.0"] = { rfc = "RFC 3463", text = "other or undefined protocol problem",
              success = "protocol: ok", any = "other or undefined protocol status" },
  ["5.1"] = { rfc = "RFC 3463", text = "invalid command",
              hint = "Unknown, unsupported or out-of-sequence command." },
  ["5.2"] = { rfc = "RFC 3463", text = "syntax error",
              hint = "The command could not be parsed." },
  ["5.3"] = { rfc = "RFC 3463", text = "too many recipients",
              hint = "Split the recipients over several transactions." },
  ["5.4"] = { rfc = "RFC 3463", text = "invalid command arguments" },
  ["5.5"] = { rfc = "RFC 3463", text = "wrong protocol version" },
  ["5.6"] = { rfc = "RFC 4954", text = "authentication exchange line too long" },

  ["6.0"] = { rfc = "RFC 3463", text = "other or undefined media or content problem",
              success = "message content: ok", any = "other or undefined media status" },
  ["6.1"] = { rfc = "RFC 3463", text = "media not supported" },
  ["6.2"] = { rfc = "RFC 3463", text = "conversion required but prohibited" },
  ["6.3"] = { rfc = "RFC 3463", text = "conversion required but not supported" },
  ["6.4"] = { rfc = "RFC 3463", text = "conversion performed with loss of information",
              any = "conversion performed with loss of information" },
  ["6.5"] = { rfc = "RFC 3463", text = "conversion failed" },
  ["6.6"] = { rfc = "RFC 4468", text = "message content not available",
              hint = "The content referenced with BURL could not be fetched." },
  ["6.7"] = { rfc = "RFC 6531", text = "non-ASCII addresses not permitted for this sender or recipient",
              hint = "The address needs SMTPUTF8, which the path does not support." },
  ["6.8"] = { rfc = "RFC 6531", text = "a UTF-8 reply is required, but the client did not allow one" },
  ["6.9"] = { rfc = "RFC 6531", text = "message with UTF-8 headers cannot be passed on to a recipient" },
  ["6.10"] = { rfc = "RFC 6531", text = "duplicate of X.6.8 (deprecated)" },

  ["7.0"] = { rfc = "RFC 3463", text = "other or undefined security or policy problem",
              success = "security: ok (authentication succeeded, or a policy check passed)",
              any = "other or undefined security status",
              hint = "With 530 or 454 it usually concerns authentication or TLS." },
  ["7.1"] = { rfc = "RFC 3463", text = "delivery not authorized, message refused",
              hint = "A policy refusal: relaying denied, a blocked sender or client address, or "
                  .. "rejected content. The text of the reply says which." },
  ["7.2"] = { rfc = "RFC 3463", text = "mailing list expansion prohibited for this sender" },
  ["7.3"] = { rfc = "RFC 3463", text = "security conversion required but not possible" },
  ["7.4"] = { rfc = "RFC 3463", text = "security features not supported" },
  ["7.5"] = { rfc = "RFC 3463", text = "cryptographic failure" },
  ["7.6"] = { rfc = "RFC 3463", text = "cryptographic algorithm not supported" },
  ["7.7"] = { rfc = "RFC 3463", text = "message integrity failure" },
  ["7.8"] = { rfc = "RFC 4954", text = "authentication credentials invalid",
              hint = "Wrong user name or password." },
  ["7.9"] = { rfc = "RFC 4954", text = "authentication mechanism too weak",
              hint = "Use a stronger mechanism, or STARTTLS first." },
  ["7.10"] = { rfc = "RFC 5248", text = "encryption needed",
               hint = "The requested operation needs an encrypted connection; STARTTLS first." },
  ["7.11"] = { rfc = "RFC 4954", text = "encryption required for the requested authentication mechanism",
               hint = "STARTTLS (or implicit TLS) before AUTH." },
  ["7.12"] = { rfc = "RFC 4954", text = "a password transition is needed" },
  ["7.13"] = { rfc = "RFC 5248", text = "user account disabled",
               hint = "The credentials are right but the account is locked or suspended." },
  ["7.14"] = { rfc = "RFC 5248", text = "trust relationship required" },
  ["7.15"] = { rfc = "RFC 6710", text = "priority level too low" },
  ["7.16"] = { rfc = "RFC 6710", text = "message too big for the requested priority" },
  ["7.17"] = { rfc = "RFC 7293", text = "mailbox owner has changed" },
  ["7.18"] = { rfc = "RFC 7293", text = "domain owner has changed" },
  ["7.19"] = { rfc = "RFC 7293", text = "RRVS test cannot be completed" },
  ["7.20"] = { rfc = "RFC 7372", text = "no passing DKIM signature found",
               hint = "Sign the mail with DKIM and check the published public key." },
  ["7.21"] = { rfc = "RFC 7372", text = "no acceptable DKIM signature found",
               hint = "A signature verified, but not one the receiver's policy accepts." },
  ["7.22"] = { rfc = "RFC 7372", text = "no valid author-matched DKIM signature found",
               hint = "Sign with a d= domain that matches the From: header's domain." },
  ["7.23"] = { rfc = "RFC 7372", text = "SPF validation failed",
               hint = "The sending IP is not allowed by the sender domain's SPF record." },
  ["7.24"] = { rfc = "RFC 7372", text = "SPF validation error",
               hint = "The SPF record could not be evaluated (DNS error, syntax, too many lookups)." },
  ["7.25"] = { rfc = "RFC 7372", text = "reverse DNS validation failed",
               hint = "The client's IP address needs a PTR record whose name resolves back to it." },
  ["7.26"] = { rfc = "RFC 7372", text = "multiple authentication checks failed",
               hint = "SPF, DKIM (and often DMARC) all failed; fix the sending domain's authentication." },
  ["7.27"] = { rfc = "RFC 7505", text = "sender address has a null MX",
               hint = "The sender's domain says it never receives mail, so bounces could not return." },
  ["7.28"] = { rfc = "IANA registry", text = "mail flood detected",
               hint = "The message looks like part of a flood of similar messages; slow down." },
  ["7.29"] = { rfc = "RFC 8617", text = "ARC validation failure" },
  ["7.30"] = { rfc = "RFC 8689", text = "REQUIRETLS support required",
               hint = "The message demands REQUIRETLS, which the next hop does not offer." },
}

---------------------------------------------------------------------------------------------
-- POP3 and IMAP response codes
---------------------------------------------------------------------------------------------

--- POP3 extended response codes (the bracketed word after -ERR), keyed by upper-case name.
M.pop3_codes = {
  ["IN-USE"] = { rfc = "RFC 2449", with = "-ERR to PASS, APOP or AUTH",
                 text = "the maildrop is locked by another session, so the login could not get "
                     .. "exclusive access",
                 hint = "Another client, or a stuck session, holds the mailbox. Close it or wait; "
                     .. "this is not a wrong password." },
  ["LOGIN-DELAY"] = { rfc = "RFC 2449", with = "-ERR to USER, PASS, APOP or AUTH",
                      text = "the user logs in more often than the server allows",
                      hint = "Wait at least the delay announced by CAPA LOGIN-DELAY before retrying." },
  ["SYS"] = { rfc = "RFC 3206", with = "-ERR to any command",
              text = "a problem with the server system, not with the user's request" },
  ["SYS/TEMP"] = { rfc = "RFC 3206", with = "-ERR to any command",
                   text = "temporary system problem, unrelated to the user's credentials",
                   hint = "Retry later; the server's log should show a backend failure." },
  ["SYS/PERM"] = { rfc = "RFC 3206", with = "-ERR to any command",
                   text = "permanent system problem; retrying will not help",
                   hint = "Tell the administrator." },
  ["AUTH"] = { rfc = "RFC 3206", with = "-ERR to USER, PASS, APOP or AUTH",
               text = "the failure concerns the user's credentials (wrong password, expired or "
                   .. "disabled account)",
               hint = "Correct the credentials; retrying the same ones will fail again." },
  ["UTF8"] = { rfc = "RFC 6856", with = "-ERR to LIST, TOP or RETR",
               text = "the message has UTF-8 header fields that cannot be given to a client that "
                   .. "has not enabled UTF-8",
               hint = "Send the UTF8 command (offered in CAPA) and retry." },
}

--- IMAP response codes (the bracketed word in a status response), keyed by upper-case name.
M.imap_codes = {
  ALERT = { rfc = "RFC 3501", text = "the text is a warning the client must show to the user",
            hint = "Often a password-expiry or maintenance notice." },
  BADCHARSET = { rfc = "RFC 3501", text = "SEARCH named a charset the server does not support",
                 hint = "May list the supported charsets; retry with UTF-8 or one of them." },
  CAPABILITY = { rfc = "RFC 3501", text = "carries the server's capability list",
                 hint = "Saves a separate CAPABILITY command." },
  PARSE = { rfc = "RFC 3501", text = "the server could not parse a message's header or MIME structure",
            hint = "The stored message is malformed." },
  PERMANENTFLAGS = { rfc = "RFC 3501",
                     text = "the flags the client may change permanently in this mailbox",
                     hint = "\\* in the list means new keywords can be created." },
  ["READ-ONLY"] = { rfc = "RFC 3501", text = "the mailbox is open read-only",
                    hint = "Opened with EXAMINE, or the user lacks write rights." },
  ["READ-WRITE"] = { rfc = "RFC 3501", text = "the mailbox is open read-write" },
  TRYCREATE = { rfc = "RFC 3501", text = "the target mailbox of APPEND, COPY or MOVE does not exist",
                hint = "CREATE it, then retry." },
  UIDNEXT = { rfc = "RFC 3501", text = "the UID the next new message will probably get" },
  UIDVALIDITY = { rfc = "RFC 3501", text = "the mailbox's UID validity value",
                  hint = "If it changed, every UID cached for this mailbox is void." },
  UNSEEN = { rfc = "RFC 3501",
             text = "sequence number of the first unseen message (IMAP4rev1; dropped in IMAP4rev2)" },
  APPENDUID = { rfc = "RFC 4315",
                text = "APPEND succeeded: the mailbox's UIDVALIDITY and the new message's UID" },
  COPYUID = { rfc = "RFC 4315",
              text = "COPY or MOVE succeeded: target UIDVALIDITY, source UIDs, and the UIDs given in the target" },
  UIDNOTSTICKY = { rfc = "RFC 4315", text = "the mailbox cannot keep UIDs from one session to the next" },
  UNAVAILABLE = { rfc = "RFC 5530", text = "temporary failure: a subsystem the server needs is down",
                  hint = "E.g. the authentication backend or the storage is unreachable; retry later." },
  AUTHENTICATIONFAILED = { rfc = "RFC 5530",
                           text = "authentication failed (bad credentials, or the server will not say why)",
                           hint = "Check user name and password; the server log has the reason." },
  AUTHORIZATIONFAILED = { rfc = "RFC 5530",
                          text = "authenticated, but not allowed to act as the requested authorization identity" },
  EXPIRED = { rfc = "RFC 5530", text = "the credentials or the account have expired",
              hint = "E.g. an expired password; change it by other means." },
  PRIVACYREQUIRED = { rfc = "RFC 5530", text = "the operation needs a protected (TLS) connection",
                      hint = "Use STARTTLS, or implicit TLS on port 993." },
  CONTACTADMIN = { rfc = "RFC 5530", text = "the user should contact the administrator or support" },
  NOPERM = { rfc = "RFC 5530", text = "access control denies this operation",
             hint = "Check the mailbox ACL (RFC 4314)." },
  INUSE = { rfc = "RFC 5530", text = "the resource is in use by someone else (e.g. a locked mailbox)",
            hint = "Try again later." },
  EXPUNGEISSUED = { rfc = "RFC 5530",
                    text = "some messages the command referred to were expunged by another session" },
  CORRUPTION = { rfc = "RFC 5530", text = "the server found corrupted data",
                 hint = "The administrator should repair the mailbox or its index." },
  SERVERBUG = { rfc = "RFC 5530", text = "the server hit an internal bug" },
  CLIENTBUG = { rfc = "RFC 5530",
                text = "the server thinks the client made a mistake, although the command completed" },
  CANNOT = { rfc = "RFC 5530", text = "the operation breaks a rule of the server and can never succeed",
             hint = "E.g. a mailbox name the server's storage cannot represent." },
  LIMIT = { rfc = "RFC 5530", text = "a server limit prevents the operation",
            hint = "E.g. too many keywords, mailboxes or messages." },
  OVERQUOTA = { rfc = "RFC 5530", text = "the operation would exceed a quota",
                hint = "Delete and expunge messages, or raise the quota." },
  ALREADYEXISTS = { rfc = "RFC 5530", text = "the name given to CREATE or RENAME already exists" },
  NONEXISTENT = { rfc = "RFC 5530", text = "the mailbox or object the command names does not exist",
                  hint = "Unlike TRYCREATE, creating it is not suggested." },
  HASCHILDREN = { rfc = "RFC 9051", text = "the mailbox has child mailboxes that prevent the operation" },
  CLOSED = { rfc = "RFC 7162", text = "the previously selected mailbox is now closed" },
  ["UNKNOWN-CTE"] = { rfc = "RFC 3516",
                      text = "the server cannot decode the part's Content-Transfer-Encoding" },
  HIGHESTMODSEQ = { rfc = "RFC 7162", text = "the highest mod-sequence value in the mailbox" },
  NOMODSEQ = { rfc = "RFC 7162", text = "the mailbox does not keep mod-sequences" },
  MODIFIED = { rfc = "RFC 7162",
               text = "messages that STORE left alone because they changed since UNCHANGEDSINCE" },
  COMPRESSIONACTIVE = { rfc = "RFC 4978", text = "compression is already active" },
  USEATTR = { rfc = "RFC 6154", text = "the special-use attribute given to CREATE is not accepted" },
  BADURL = { rfc = "RFC 4469", text = "a URL given to CATENATE could not be resolved" },
  TOOBIG = { rfc = "RFC 4469", text = "the message is too big" },
  NOTSAVED = { rfc = "RFC 5182", text = "the search result was not saved" },
}

---------------------------------------------------------------------------------------------
-- Helpers
---------------------------------------------------------------------------------------------

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- A 3-digit SMTP code as an integer in 100..599, from a number or a string, or nil.
local function to_code(code)
  if type(code) == "string" then
    if not code:match("^%s*%d%d%d%s*$") then return nil end
    code = tonumber(code)
  elseif type(code) ~= "number" then
    return nil
  end
  code = math.tointeger(code)
  if not code or code < 100 or code > 599 then return nil end
  return code
end

-- Splits "5.1.1" into class, subject, detail (integers), or nil when it is not one.
-- Subject and detail are 1 to 3 digits without leading zeros (RFC 3463 section 2).
local function split_enhanced(s)
  if type(s) ~= "string" then return nil end
  local c, subj, det = trim(s):match("^([245])%.(%d%d?%d?)%.(%d%d?%d?)$")
  if not c then return nil end
  if (#subj > 1 and subj:sub(1, 1) == "0") or (#det > 1 and det:sub(1, 1) == "0") then
    return nil
  end
  return tonumber(c), tonumber(subj), tonumber(det)
end

-- What an entry of enhanced_codes means with class `c` (2, 4, 5, or nil for "X.s.d"): a
-- success reads as one ("2.7.0": security ok), a failure as one; a detail sent with the other
-- kind of class says so.
local function entry_text(entry, c, subj, det)
  if c == nil then return entry.any or entry.text end
  if c == 2 then
    if entry.success then return entry.success end
    if entry.positive or entry.any then return entry.any or entry.text end
    return fmt("%s (X.%d.%d names a failure, but the class says success)", entry.text, subj, det)
  end
  if entry.positive then
    return fmt("%s (X.%d.%d reports a success, but the class says failure)", entry.text, subj, det)
  end
  return entry.text
end

-- The entry's hint when it fits the class (a failure's advice is no help with a success).
local function entry_hint(entry, c)
  if not entry.hint then return nil end
  if c == 2 and not (entry.hint_any or entry.positive or (entry.any and not entry.success)) then
    return nil
  end
  return entry.hint
end

-- The detail meaning of class.subject.detail, falling back to the subject's name.
local function enhanced_detail_text(c, subj, det)
  local entry = M.enhanced_codes[subj .. "." .. det]
  if entry then return entry_text(entry, c, subj, det), entry end
  local s = M.enhanced_subjects[subj]
  if s then return fmt("%s (detail %d not registered)", s.name, det), nil end
  return fmt("unregistered subject %d", subj), nil
end

local function canonical_command(command)
  if type(command) ~= "string" then return nil end
  local up = trim(command):upper()
  local key = up:gsub("[%s%-]+", "_")
  if COMMAND_ALIASES[key] then return COMMAND_ALIASES[key] end
  if M.replies[key] then return key end
  -- "MAIL FROM:<a@b>", "EHLO client.example": the command word.
  local word = up:match("^([%a%.]+)")
  if word then
    if COMMAND_ALIASES[word] then return COMMAND_ALIASES[word] end
    if M.replies[word] then return word end
  end
  return nil
end

local function sorted_codes(set)
  local list = {}
  for c in pairs(set) do list[#list + 1] = c end
  sort(list)
  return list
end

-- Upper-case response code name from "IN-USE", "[IN-USE]", "[UIDNEXT 4392]" ...
local function response_code_name(name)
  if type(name) ~= "string" then return nil end
  local s = trim(name)
  local inner = s:match("^%[([^%]]*)%]?")
  if inner then s = inner end
  s = s:match("^([^%s%]]+)")
  return s and s:upper() or nil
end

local function lookup_pop3(name)
  local key = response_code_name(name)
  if not key then return nil end
  local entry = M.pop3_codes[key]
  if entry then return entry, key end
  -- RFC 2449 codes are hierarchical: an unknown "SYS/FOO" still says "SYS".
  local parent = key:match("^([^/]+)/")
  if parent and M.pop3_codes[parent] then return M.pop3_codes[parent], key end
  return nil
end

local function lookup_imap(name)
  local key = response_code_name(name)
  if not key then return nil end
  local entry = M.imap_codes[key]
  if entry then return entry, key end
  return nil
end

---------------------------------------------------------------------------------------------
-- Public API
---------------------------------------------------------------------------------------------

--- Meaning of a numeric SMTP reply code.
-- Unknown codes get a description from their first and second digits.
-- @param code number or string of three digits, 100 to 599 (e.g. `550` or `"550"`)
-- @return string meaning, or nil when `code` is not a three-digit code from 100 to 599
-- @usage codes.describe(550) --> "mailbox unavailable (requested action not taken)"
function M.describe(code)
  code = to_code(code)
  if not code then return nil end
  local known = M.smtp_codes[code]
  if known then return known.text end
  local first, second = code // 100, (code // 10) % 10
  local f = M.first_digit[first]
  local s = M.second_digit[second]
  return fmt("unregistered code; by its digits: %s, %s", f.name,
             s and s.name or "undefined group (second digit " .. second .. ")")
end

--- Meaning of an RFC 3463 enhanced status code: class, subject and detail.
-- Unknown details fall back to the subject's meaning.
-- @param str string such as `"5.7.1"`
-- @return string such as "permanent failure; security or policy status: delivery not
--   authorized, message refused", or nil when `str` is not of the form class.subject.detail
--   with class 2, 4 or 5
function M.describe_enhanced(str)
  local c, subj, det = split_enhanced(str)
  if not c then return nil end
  local class = M.enhanced_classes[c].name
  local subject = M.enhanced_subjects[subj]
  if not subject then
    return fmt("%s; unregistered subject %d (detail %d)", class, subj, det)
  end
  local entry = M.enhanced_codes[subj .. "." .. det]
  if entry then return fmt("%s; %s: %s", class, subject.name, entry_text(entry, c, subj, det)) end
  return fmt("%s; %s (detail %d not registered)", class, subject.name, det)
end

--- One line explaining a reply: the SMTP code's and the enhanced code's meanings.
-- For a reply without SMTP codes whose text carries a POP3 or IMAP response code
-- ("-ERR [IN-USE] ...", "a1 NO [AUTHENTICATIONFAILED] ...") that code is explained instead.
-- @param reply table with optional fields `code` (number), `enhanced` (string), `text`,
--   `status`
-- @return string such as "550: mailbox unavailable (requested action not taken); 5.1.1: bad
--   destination mailbox address", or nil when nothing is known
function M.meaning(reply)
  if type(reply) ~= "table" then return nil end
  local parts = {}
  local code = to_code(reply.code)
  if code then parts[#parts + 1] = code .. ": " .. M.describe(code) end
  local c, subj, det = split_enhanced(reply.enhanced)
  if c then
    parts[#parts + 1] = fmt("%d.%d.%d: %s", c, subj, det, (enhanced_detail_text(c, subj, det)))
  end
  if #parts > 0 then return concat(parts, "; ") end
  -- POP3 / IMAP status lines.
  local text = type(reply.text) == "string" and reply.text or ""
  local status = type(reply.status) == "string" and reply.status:upper() or ""
  local bracket = text:match("^[%+%-]%u+%s+(%[[^%]]*%])")                 -- -ERR [IN-USE]
      or text:match("^%S+%s+%u+%s+(%[[^%]]*%])")                           -- a1 NO [CODE]
      or text:match("^%s*(%[[^%]]*%])")                                    -- text after status
  if not bracket then return nil end
  local is_pop3 = status == "+OK" or status == "-ERR" or text:match("^[%+%-]%u+%s") ~= nil
  local entry, key
  if is_pop3 then entry, key = lookup_pop3(bracket) end
  if not entry then entry, key = lookup_imap(bracket) end
  if not entry and not is_pop3 then entry, key = lookup_pop3(bracket) end
  if not entry then return nil end
  return key .. ": " .. entry.text
end

--- Whether `code` is a valid reply to `command`.
-- Follows RFC 5321 section 4.3.2 (with AUTH, STARTTLS and BDAT from their RFCs); 421 is
-- valid for everything, 500 and 501 for every command, and the table's `common` codes are
-- accepted too (see `codes.replies`).
-- @param command string, case-insensitive: "EHLO", "mail", "MAIL FROM:<a@b>", "DATA_END"
--   (the reply after the final dot), "GREETING" or "CONNECT" (the connection greeting)
-- @param code number or three-digit string
-- @return true or false; nil when the command is unknown
function M.valid_for(command, code)
  local name = canonical_command(command)
  if not name then return nil end
  code = to_code(code)
  if not code then return false end
  return valid_sets[name][code] == true
end

--- The commands that `code` may answer, in conversation order.
-- @param code number or three-digit string
-- @return array of command names ("GREETING", "EHLO", ..., "DATA_END", ...), possibly empty
function M.commands_for(code)
  local list = {}
  code = to_code(code)
  if not code then return list end
  for _, name in ipairs(COMMAND_ORDER) do
    if valid_sets[name][code] then list[#list + 1] = name end
  end
  return list
end

--- The valid reply codes for a command, sorted.
-- @param command string as for `valid_for`
-- @return array of codes, or nil when the command is unknown
function M.valid_codes(command)
  local name = canonical_command(command)
  if not name then return nil end
  return sorted_codes(valid_sets[name])
end

--- The usual cause / what-to-do hint for an SMTP code or an enhanced status code.
-- @param code number, "550", or "5.7.1"
-- @return string or nil
function M.hint(code)
  local c = to_code(code)
  if c then
    local e = M.smtp_codes[c]
    return e and e.hint or nil
  end
  local ec, subj, det = split_enhanced(code)
  if subj then
    local e = M.enhanced_codes[subj .. "." .. det]
    return e and entry_hint(e, ec) or nil
  end
  return nil
end

--- Grammar problems of an SMTP reply.
-- Reports: a reply without a code whose text looks like an attempt at one ("25 ok", "abc"),
-- a code that is not three digits, a first digit outside 2-5 or a second digit outside 0-5
-- (RFC 5321 section 4.2), a malformed enhanced code, an enhanced class that differs from the
-- reply's class, and (when `command` is given and known) a code that is not a valid reply to
-- that command.
-- @param reply table with `code` (number or nil), `enhanced` (string or nil), `text`
-- @param command optional command name as for `valid_for`
-- @return array of violation strings, empty when the reply is fine
function M.check_grammar(reply, command)
  local v = {}
  if type(reply) ~= "table" then
    v[1] = "reply is not a table"
    return v
  end
  local code = reply.code
  if code == nil then
    local text = reply.text
    if type(text) ~= "string" and type(reply.lines) == "table" then text = reply.lines[1] end
    text = type(text) == "string" and text or ""
    local digits, after = text:match("^(%d*)(.?)")
    local shown = #text > 40 and text:sub(1, 40) .. "..." or text
    if #digits == 3 then
      v[#v + 1] = fmt("reply code %s must be followed by a space, '-' or the end of the line, "
                      .. "not %q", digits, after)
    elseif #digits > 0 then
      v[#v + 1] = fmt("reply code %q is not three digits", digits)
    elseif text == "" then
      v[#v + 1] = "empty reply line: no three-digit reply code"
    else
      v[#v + 1] = fmt("reply does not start with a three-digit code: %q", shown)
    end
  else
    local n = type(code) == "string" and code:match("^%d+$") and tonumber(code) or code
    n = type(n) == "number" and math.tointeger(n) or nil
    if not n or n < 100 or n > 999 then
      v[#v + 1] = fmt("reply code %s is not three digits", tostring(code))
      code = nil
    else
      code = n
      local first, second = n // 100, (n // 10) % 10
      if first < 2 or first > 5 then
        v[#v + 1] = fmt("reply code %d: first digit %d is outside 2-5", n, first)
      end
      if second > 5 then
        v[#v + 1] = fmt("reply code %d: second digit %d is outside 0-5", n, second)
      end
    end
  end

  local enh = reply.enhanced
  if enh ~= nil and enh ~= "" then
    local c = split_enhanced(enh)
    if not c then
      v[#v + 1] = fmt("enhanced status code %q is malformed (expected class.subject.detail "
                      .. "with class 2, 4 or 5, e.g. 5.1.1)", tostring(enh))
    elseif code then
      local first = code // 100
      if first == 3 then
        v[#v + 1] = fmt("enhanced status code %s on a 3xx reply (%d): intermediate replies "
                        .. "carry none", enh, code)
      elseif c ~= first then
        v[#v + 1] = fmt("enhanced status code %s has class %d but reply code %d has class %d",
                        enh, c, code, first)
      end
    end
  end

  if command ~= nil and code and code >= 100 and code <= 599 then
    local ok = M.valid_for(command, code)
    if ok == false then
      local name = canonical_command(command)
      local label = COMMAND_LABEL[name] or name
      v[#v + 1] = fmt("%d is not a valid reply to %s (expected one of %s)", code, label,
                      concat(M.valid_codes(name), ", "))
    end
  end
  return v
end

--- The POP3 extended response code's meaning.
-- @param name "IN-USE", "[IN-USE]", "sys/temp" (case-insensitive; an unknown "SYS/x" falls
--   back to "SYS")
-- @return string or nil
function M.pop3(name)
  local entry = lookup_pop3(name)
  return entry and entry.text or nil
end

--- The IMAP response code's meaning.
-- @param name "TRYCREATE", "[UIDNEXT 4392]", "authenticationfailed" (case-insensitive)
-- @return string or nil
function M.imap(name)
  local entry = lookup_imap(name)
  return entry and entry.text or nil
end

---------------------------------------------------------------------------------------------
-- explain
---------------------------------------------------------------------------------------------

-- Who may send `code`: the commands the RFCs name, then those where it is only common usage.
local function command_list(code)
  local rfc, common = {}, {}
  for _, name in ipairs(COMMAND_ORDER) do
    if rfc_sets[name][code] then
      rfc[#rfc + 1] = COMMAND_LABEL[name] or name
    elseif valid_sets[name][code] then
      common[#common + 1] = COMMAND_LABEL[name] or name
    end
  end
  local listed
  if #rfc == #COMMAND_ORDER then
    listed = "any command, and the connection greeting"
  elseif #rfc == #COMMAND_ORDER - 1 and not rfc_sets.GREETING[code] then
    listed = "any command (not the greeting)"
  else
    listed = concat(rfc, ", ")
  end
  return listed, concat(common, ", ")
end

local function explain_smtp(out, code, text)
  local known = M.smtp_codes[code]
  local first, second = code // 100, (code // 10) % 10
  insert(out, fmt("SMTP reply %d: %s", code, M.describe(code)))
  local f = M.first_digit[first]
  insert(out, fmt("  class %dxx: %s - %s", first, f.name, f.text))
  local s = M.second_digit[second]
  if s then
    insert(out, fmt("  group x%dz: %s - %s", second, s.name, s.text))
  else
    insert(out, fmt("  group x%dz: undefined (RFC 5321 defines second digits 0 to 5)", second))
  end
  if known and known.hint then insert(out, "  hint: " .. known.hint) end
  if known and known.usual then insert(out, "  usually sent with enhanced code " .. known.usual) end
  if first < 2 then
    insert(out, "  note: SMTP uses no 1xx replies; a server sending one breaks RFC 5321")
  end
  local cmds, common = command_list(code)
  if cmds ~= "" then
    insert(out, "  valid reply to: " .. cmds)
  else
    insert(out, "  valid reply to: no command listed in RFC 5321 section 4.3.2 or its extensions")
  end
  if common ~= "" then insert(out, "  also common in practice after: " .. common) end
  insert(out, "  defined in: " .. (known and known.rfc or "no RFC (not a registered code)"))
  if text and text ~= "" then insert(out, "  server text: " .. text) end
end

local function explain_enhanced(out, c, subj, det)
  local class = c and M.enhanced_classes[c]
  local subject = M.enhanced_subjects[subj]
  local entry = M.enhanced_codes[subj .. "." .. det]
  local label = fmt("%s.%d.%d", c and tostring(c) or "X", subj, det)
  local detail = entry and entry_text(entry, c, subj, det)
      or (subject and fmt("%s (detail %d not registered)", subject.name, det))
      or fmt("unregistered subject %d", subj)
  insert(out, fmt("Enhanced status %s: %s", label, detail))
  if class then
    insert(out, fmt("  class %d: %s - %s", c, class.name, class.text))
  else
    insert(out, "  class: 2 success, 4 persistent transient failure, 5 permanent failure")
  end
  if subject then
    insert(out, fmt("  subject X.%d: %s - %s", subj, subject.name, subject.text))
  end
  local hint = entry and entry_hint(entry, c)
  if hint then insert(out, "  hint: " .. hint) end
  insert(out, "  defined in: " .. (entry and entry.rfc or (subject and "RFC 3463 (subject only)")
                                   or "not registered"))
end

local function explain_response_code(out, proto, key, entry)
  insert(out, fmt("%s response code [%s]: %s", proto, key, entry.text))
  if entry.hint then insert(out, "  hint: " .. entry.hint) end
  if entry.with then insert(out, "  sent with: " .. entry.with) end
  insert(out, "  defined in: " .. entry.rfc)
end

--- Human explanation of a code, for `parley explain`.
-- Accepts an SMTP code ("250"), an enhanced status code ("5.7.1", or "X.7.1" for any
-- class), both with optional server text ("550 5.1.1 no such user", "550-5.1.1 ..."), a code
-- class ("5xx", "55x"), a POP3 response code ("IN-USE", "[SYS/TEMP]", "-ERR [IN-USE] locked")
-- or an IMAP one ("AUTHENTICATIONFAILED", "a1 NO [TRYCREATE] ...").
-- @param query string (or number)
-- @return multi-line string; or nil and an error message for something unknown
function M.explain(query)
  if type(query) == "number" then query = tostring(math.tointeger(query) or query) end
  if type(query) ~= "string" then return nil, "nothing to explain: expected a code" end
  local q = trim(query)
  if q == "" then return nil, "nothing to explain: expected a code such as 550, 5.7.1 or IN-USE" end
  local out = {}

  -- SMTP: "550", "550 5.1.1 text", "550-5.1.1 text", "550 text".
  local digits, rest = q:match("^(%d+)(.*)$")
  if digits and (rest == "" or rest:match("^[%s%-]")) then
    if #digits ~= 3 or not to_code(digits) then
      return nil, fmt("%s is not an SMTP reply code (three digits from 100 to 599; SMTP "
                      .. "replies use 2xx to 5xx)", digits)
    end
    local code = tonumber(digits)
    rest = trim(rest:gsub("^%-", ""))
    local enh, text = rest:match("^(%S+)%s*(.*)$")
    local c, subj, det = split_enhanced(enh)
    if not c then text = rest end
    explain_smtp(out, code, text)
    if c then
      explain_enhanced(out, c, subj, det)
      local first = code // 100
      if c ~= first then
        insert(out, fmt("  note: the enhanced class %d differs from the reply class %d; "
                        .. "the reply code governs", c, first))
      end
    end
    return concat(out, "\n")
  end

  -- Enhanced status code alone, possibly with text; "X.7.1" means any class.
  local head, tail = q:match("^(%S+)%s*(.*)$")
  local c, subj, det = split_enhanced(head)
  if c then
    explain_enhanced(out, c, subj, det)
    if tail ~= "" then insert(out, "  server text: " .. tail) end
    return concat(out, "\n")
  end
  local xs, xd = head:match("^[xX]%.(%d%d?%d?)%.(%d%d?%d?)$")
  if xs then
    explain_enhanced(out, nil, tonumber(xs), tonumber(xd))
    return concat(out, "\n")
  end
  if head:match("^%d+%.%d+%.%d+$") then
    return nil, fmt("%s is not an enhanced status code: the class must be 2, 4 or 5, and the "
                    .. "other parts 1 to 3 digits without leading zeros", head)
  end

  -- Code classes: "5xx", "55x".
  local f, s = q:match("^([1-5])([0-9xX])[xX]$")
  if f then
    local fd = M.first_digit[tonumber(f)]
    insert(out, fmt("SMTP replies %s: %s - %s", q:lower(), fd.name, fd.text))
    local sd = tonumber(s) and M.second_digit[tonumber(s)]
    if sd then insert(out, fmt("  group x%sz: %s - %s", s, sd.name, sd.text)) end
    local known = {}
    for code in pairs(M.smtp_codes) do
      if code // 100 == tonumber(f) and (not tonumber(s) or (code // 10) % 10 == tonumber(s)) then
        known[#known + 1] = code
      end
    end
    sort(known)
    for _, code in ipairs(known) do
      insert(out, fmt("  %d  %s", code, M.smtp_codes[code].text))
    end
    return concat(out, "\n")
  end

  -- POP3 / IMAP response codes, bare or in brackets, possibly inside a status line.
  local bracket = q:match("(%[[^%]]*%]?)")
  local name = bracket or q
  local pentry, pkey = lookup_pop3(name)
  local ientry, ikey = lookup_imap(name)
  if pentry then explain_response_code(out, "POP3", pkey, pentry) end
  if ientry then explain_response_code(out, "IMAP", ikey, ientry) end
  if #out > 0 then return concat(out, "\n") end

  return nil, fmt("unknown code %q: expected an SMTP reply code (550), an enhanced status "
                  .. "code (5.7.1), a code class (5xx), or a POP3 or IMAP response code "
                  .. "(IN-USE, AUTHENTICATIONFAILED)", q)
end

return M
