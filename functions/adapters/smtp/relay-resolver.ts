import { lookup } from 'node:dns/promises';
import { DeliveryError } from '../../core/mail/mailer.js';
import {
  judgeRelayAddress,
  type RelayAddressPolicy,
  relayAddressRefusal,
} from '../../core/mail/relay-address-policy.js';
import { formatIp, type IpAddress, parseIp } from '../../kernel/ip-address.js';

// The relay's host, resolved by us rather than by nodemailer: every address is judged by the
// deployment's policy, and the connection goes to a judged address (nodemailer gets the address
// as its host, the name as the TLS server name), so the name cannot re-resolve to something else
// between the check and the connection (DNS rebinding).

/** Every address of a host name, as `dns.promises.lookup(host, { all: true })` answers. */
export type RelayLookup = (host: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;

export const systemRelayLookup: RelayLookup = (host) => lookup(host, { all: true });

export interface ResolvedRelay {
  /** The address to connect to. */
  address: string;
  /** Every address the name had (the address itself for a literal). */
  addresses: string[];
  /** Whether the host was a name (then it is the TLS server name). */
  isName: boolean;
}

/** A lookup that failed, with the resolver's code (ENOTFOUND, EAI_AGAIN, ETIMEOUT). */
export class RelayLookupError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The address to connect to, after every address of the host passed the policy. A host with
 * any refused address is refused as a whole: a relay's name that also points at the metadata
 * service or a private network is not one to send through. IPv4 first: Lambda's own network
 * has no IPv6 egress.
 */
export async function resolveRelay(
  host: string,
  port: number,
  policy: RelayAddressPolicy,
  resolver: RelayLookup,
  timeoutMs: number,
): Promise<ResolvedRelay> {
  const literal = parseIp(host);
  const found: IpAddress[] = literal ? [literal] : await lookupWithin(host, resolver, timeoutMs);
  for (const address of found) {
    const verdict = judgeRelayAddress(policy, host, address);
    if (!verdict.ok) throw new DeliveryError(relayAddressRefusal(host, port, address, verdict));
  }
  const ordered = [...found.filter((a) => a.family === 4), ...found.filter((a) => a.family === 6)];
  const first = ordered[0];
  if (!first) throw new RelayLookupError('ENODATA', `${host} has no address`);
  return {
    // A literal as given (an IPv6 zone kept); a looked-up address as the resolver wrote it.
    address: literal ? host.replace(/^\[(.*)\]$/, '$1') : formatIp(first),
    addresses: found.map(formatIp),
    isName: !literal,
  };
}

async function lookupWithin(host: string, resolver: RelayLookup, timeoutMs: number): Promise<IpAddress[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new RelayLookupError('ETIMEOUT', `no answer within ${Math.round(timeoutMs / 100) / 10} s`)),
      timeoutMs,
    );
  });
  try {
    const answers = await Promise.race([resolver(host), timeout]);
    const parsed = answers.map((a) => parseIp(a.address)).filter((a): a is IpAddress => a !== undefined);
    if (parsed.length === 0) throw new RelayLookupError('ENODATA', `${host} has no address`);
    return parsed;
  } catch (error) {
    if (error instanceof RelayLookupError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'EDNS';
    throw new RelayLookupError(code, error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
  }
}
