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

/** API Gateway's HTTP API integration timeout: the hard ceiling of every admin request. */
export const API_GATEWAY_TIMEOUT_MS = 30_000;

/** `60 s`, `0.35 s`: how a deadline or timeout reads in a message. */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`;
}
