// How long one send may take, from the DNS lookup to the relay's answer to the message. No
// imports: the numbers are checked against the limits around them (the notify lease, the
// functions' timeouts, API Gateway's integration timeout) by a unit test, and read by adapters.

/**
 * The overall deadline of one send (DNS, connect, TLS, auth, envelope, data), however quickly
 * each step answers. Per-phase timeouts alone let a relay that answers every command slowly
 * run for minutes, past the claim lease on the event, and the event would then be sent twice.
 * Well under the notify lease (300 s) and the notify function's timeout (120 s), with room
 * left in that invocation for an OAuth2 token request and the ledger writes.
 */
export const SEND_DEADLINE_MS = 60_000;

/**
 * The test email's deadline: the admin waits for it behind API Gateway, which gives up after
 * 30 s (the admin API function after 29 s). It covers the whole test (an OAuth2 token request
 * included), so the answer is always the diagnosis, never a gateway timeout.
 */
export const TEST_EMAIL_DEADLINE_MS = 20_000;

/**
 * nodemailer's per-phase timeouts (the SMTP mailers' defaults). The send deadline ends a send
 * whatever phase it is in; each of these is shorter than it, and shorter than every function's
 * timeout (the admin API's 29 s the shortest), checked by test/unit/deadlines.test.ts.
 */
export const SMTP_PHASE_TIMEOUTS_MS = {
  /** Until the TCP connection (and, for implicit TLS, the handshake) is up; includes DNS. */
  connectionMs: 10_000,
  /** Until the server's 220 greeting, and again for a STARTTLS handshake. */
  greetingMs: 10_000,
  /** Inactivity on an established connection (a relay scanning a message before its 250 included). */
  socketMs: 25_000,
  dnsMs: 10_000,
} as const;

/**
 * One OAuth2 token request (connect to last byte), before a send to a relay that uses OAuth2:
 * the send deadline starts after it, so an invocation's budget holds both.
 */
export const TOKEN_REQUEST_TIMEOUT_MS = 10_000;

/**
 * One Microsoft Graph sendMail request (connect to last byte), inside the send's deadline: Graph
 * answers 202 within a second or two when it is reachable. Shorter than every function's
 * timeout (the admin API's 29 s the shortest), checked by test/unit/deadlines.test.ts.
 */
export const GRAPH_REQUEST_TIMEOUT_MS = 25_000;

/** API Gateway's HTTP API integration timeout: the hard ceiling of every admin request. */
export const API_GATEWAY_TIMEOUT_MS = 30_000;

/** `60 s`, `0.35 s`: how a deadline or timeout reads in a message. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`;
}
