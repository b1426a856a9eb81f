import {
  ALWAYS_REFUSED_KINDS,
  type Cidr,
  cidrContains,
  cidrsOverlap,
  classifyIp,
  formatIp,
  type IpAddress,
  parseCidr,
  parseIp,
  SPECIAL_RANGES,
} from '../../kernel/ip-address.js';
import type { DeliveryFailure } from './mailer.js';

// Which addresses a relay may be connected at. The relay host is an admin's input, and the
// service connects from inside the deployment: without this, a test email (with its transcript)
// probes whatever the functions can reach, the instance metadata service included. The SMTP
// adapter resolves the host itself, judges every address, and connects to a judged address, so
// a name cannot resolve to something else between the check and the connection.

export interface RelayAddressPolicy {
  /**
   * Loopback and private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, 127/8, ::1)
   * without an allowance: the embedded runtime (relays on the same machine or network are the
   * point of it). In AWS only what `allowedCidrs` and `allowedHosts` name.
   */
  allowPrivate: boolean;
  allowedCidrs: readonly Cidr[];
  /** Host names (lower case, no trailing dot) whose addresses may be private. */
  allowedHosts: readonly string[];
}

/** The embedded runtime's policy: private and loopback relays allowed, link-local and the like never. */
export const EMBEDDED_RELAY_POLICY: RelayAddressPolicy = {
  allowPrivate: true,
  allowedCidrs: [],
  allowedHosts: [],
};

/** The deployment's policy in AWS: public relays, and the private ones the deployment allows. */
export function deployedRelayPolicy(
  allowance: RelayAllowance = { cidrs: [], hosts: [] },
): RelayAddressPolicy {
  return { allowPrivate: false, allowedCidrs: allowance.cidrs, allowedHosts: allowance.hosts };
}

export type RelayAddressVerdict =
  | { ok: true }
  | {
      ok: false;
      /** Never allowed (link-local, metadata, ...), rather than not allowed by this deployment. */
      always: boolean;
      /** The range in words. */
      range: string;
    };

/** Whether `address` (what `host` resolved to, or the host itself) may be connected to. */
export function judgeRelayAddress(
  policy: RelayAddressPolicy,
  host: string,
  address: IpAddress,
): RelayAddressVerdict {
  const { kind, label } = classifyIp(address);
  if (ALWAYS_REFUSED_KINDS.has(kind)) return { ok: false, always: true, range: label };
  if (kind === 'public' || policy.allowPrivate) return { ok: true };
  if (policy.allowedHosts.includes(normalizeHost(host))) return { ok: true };
  if (policy.allowedCidrs.some((cidr) => cidrContains(cidr, address))) return { ok: true };
  return { ok: false, always: false, range: label };
}

/** Why an IP-literal host can never be a relay (a field error at save time); undefined otherwise. */
export function alwaysRefusedHostProblem(host: string): string | undefined {
  const address = parseIp(host);
  if (!address) return undefined;
  const verdict = judgeRelayAddress(EMBEDDED_RELAY_POLICY, host, address);
  if (verdict.ok || !verdict.always) return undefined;
  return `${formatIp(address)} is ${verdict.range}, never an SMTP relay: use the relay's own host name or address`;
}

/** The DeliveryFailure of a refused relay address: at stage connect, before any connection, for good. */
export function relayAddressRefusal(
  host: string,
  port: number,
  address: IpAddress,
  verdict: RelayAddressVerdict & { ok: false },
): DeliveryFailure {
  const shown = formatIp(address);
  const what = parseIp(host)
    ? `the relay ${host}:${port}`
    : `the relay ${host}:${port} (it resolves to ${shown})`;
  const why = verdict.always
    ? `${shown} is ${verdict.range}, which is never connected to`
    : `${shown} is ${verdict.range}, which this deployment does not allow relays in`;
  return {
    stage: 'connect',
    // The same host gets the same answer until the configuration or the deployment changes.
    transient: false,
    reason: verdict.always ? RELAY_ADDRESS_REFUSED : RELAY_ADDRESS_NOT_ALLOWED,
    message: `Not connecting to ${what}: ${why}`,
  };
}

/** The relay's address is in a range never connected to (link-local, metadata, multicast, ...). */
export const RELAY_ADDRESS_REFUSED = 'RELAY_ADDRESS_REFUSED';
/** The relay's address is loopback or private, and the deployment does not allow it. */
export const RELAY_ADDRESS_NOT_ALLOWED = 'RELAY_ADDRESS_NOT_ALLOWED';

export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

// ---------------------------------------------------------------------------------------------
// The deployment's allowance: `-c allowedRelayCidrs=... -c allowedRelayHosts=...`, passed to
// the functions as RELAY_ALLOWED_CIDRS and RELAY_ALLOWED_HOSTS (comma-separated).
// ---------------------------------------------------------------------------------------------

export interface RelayAllowance {
  cidrs: Cidr[];
  hosts: string[];
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);

const items = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** The CIDR list, or the first problem with it. */
export function parseAllowedRelayCidrs(text: string | undefined): { cidrs: Cidr[] } | { problem: string } {
  const cidrs: Cidr[] = [];
  for (const item of items(text)) {
    const cidr = parseCidr(item);
    if (!cidr) return { problem: `"${item}" is not a CIDR range like 10.0.0.0/8 or fd00::/8` };
    // A range around a metadata address (fd00::/8) is fine: that address stays refused anyway.
    const never = SPECIAL_RANGES.find(
      (r) =>
        ALWAYS_REFUSED_KINDS.has(r.kind) &&
        cidrsOverlap(r.cidr, cidr) &&
        (r.kind !== 'metadata' || cidr.prefix >= r.cidr.prefix),
    );
    if (never) {
      return {
        problem: `"${item}" includes ${never.label}, which is never allowed for a relay; name the private ranges your relays are in, such as 10.0.0.0/8`,
      };
    }
    cidrs.push(cidr);
  }
  return { cidrs };
}

/** The host name list, or the first problem with it. */
export function parseAllowedRelayHosts(text: string | undefined): { hosts: string[] } | { problem: string } {
  const hosts: string[] = [];
  for (const item of items(text)) {
    const host = normalizeHost(item);
    if (parseIp(host))
      return {
        problem: `"${item}" is an address: list addresses in allowedRelayCidrs (as ${item}/${item.includes(':') ? 128 : 32})`,
      };
    if (!HOSTNAME.test(host)) return { problem: `"${item}" is not a host name like relay.corp.example` };
    hosts.push(host);
  }
  return { hosts };
}
