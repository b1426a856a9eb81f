// The relay address classifier and policy: which addresses a relay may be at, in the embedded
// runtime and in AWS, and the deployment's allowance as the CDK context and the functions'
// environment give it.
import { EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import {
  alwaysRefusedHostProblem,
  deployedRelayPolicy,
  EMBEDDED_RELAY_POLICY,
  judgeRelayAddress,
  parseAllowedRelayCidrs,
  parseAllowedRelayHosts,
  RELAY_ADDRESS_NOT_ALLOWED,
  RELAY_ADDRESS_REFUSED,
  relayAddressRefusal,
} from '../../functions/core/mail/relay-address-policy.js';
import { classifyIp, formatIp, parseCidr, parseIp } from '../../functions/kernel/ip-address.js';

const ip = (text: string) => {
  const address = parseIp(text);
  if (!address) throw new Error(`not an address: ${text}`);
  return address;
};

describe('classifyIp', () => {
  test.each([
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['169.254.0.0', 'link-local'],
    ['169.254.255.255', 'link-local'],
    ['169.254.170.2', 'link-local'],
    ['fe80::1', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['::', 'unspecified'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::2', 'unspecified'],
    ['::169.254.169.254', 'metadata'],
    ['64:ff9b::169.254.169.254', 'metadata'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.10', 'private'],
    ['::ffff:10.1.2.3', 'private'],
    ['64:ff9b::10.1.2.3', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    // Just outside the ranges
    ['169.253.255.255', 'public'],
    ['169.255.0.0', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['1.0.0.0', 'public'],
    ['223.255.255.255', 'public'],
    ['fec0::1', 'public'],
    ['2001:db8::25', 'public'],
    ['::ffff:203.0.113.25', 'public'],
    ['203.0.113.25', 'public'],
  ])('%s is %s', (address, kind) => {
    // Act
    const result = classifyIp(ip(address));

    // Assess
    expect(result.kind).toBe(kind);
  });

  test('an IPv4 range seen inside IPv6 says so', () => {
    expect(classifyIp(ip('::ffff:169.254.1.1')).label).toMatch(
      /link-local \(169\.254\.0\.0\/16\), as an IPv4 address inside IPv6/,
    );
  });

  test('names are not addresses', () => {
    expect(parseIp('relay.example.com')).toBeUndefined();
    expect(parseIp('169.254.169.254.nip.io')).toBeUndefined();
  });

  test('IPv6 formatting compresses the longest run of zeros', () => {
    expect(formatIp(ip('fd00:0ec2:0000:0000:0000:0000:0000:0254'))).toBe('fd00:ec2::254');
    expect(formatIp(ip('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(formatIp(ip('::1'))).toBe('::1');
  });
});

describe('judgeRelayAddress', () => {
  const refusedEverywhere = [
    '169.254.169.254',
    '::ffff:169.254.169.254',
    'fd00:ec2::254',
    'fe80::1',
    '0.0.0.0',
    '224.0.0.5',
    '255.255.255.255',
  ];

  test.each(refusedEverywhere)(
    '%s is refused in the embedded runtime, in AWS, and whatever is allowed',
    (address) => {
      // Prepare
      const permissive = deployedRelayPolicy({
        cidrs: [parseCidr('10.0.0.0/8'), parseCidr('fd00::/8')].filter((c) => c !== undefined),
        hosts: ['relay.corp.example'],
      });

      // Act
      const verdicts = [EMBEDDED_RELAY_POLICY, deployedRelayPolicy(), permissive].map((policy) =>
        judgeRelayAddress(policy, 'relay.corp.example', ip(address)),
      );

      // Assess
      for (const verdict of verdicts) expect(verdict).toMatchObject({ ok: false, always: true });
    },
  );

  test.each(['127.0.0.1', '::1', '10.1.2.3', '172.20.0.1', '192.168.1.10', '100.64.1.1', 'fd12::1'])(
    '%s is allowed in the embedded runtime and refused in AWS without an allowance',
    (address) => {
      expect(judgeRelayAddress(EMBEDDED_RELAY_POLICY, address, ip(address))).toEqual({ ok: true });
      expect(judgeRelayAddress(deployedRelayPolicy(), address, ip(address))).toMatchObject({
        ok: false,
        always: false,
      });
    },
  );

  test('allowedRelayCidrs allows the addresses in them, and only those', () => {
    // Prepare
    const parsed = parseAllowedRelayCidrs('10.0.0.0/8, 192.168.1.0/24');
    if (!('cidrs' in parsed)) throw new Error(parsed.problem);
    const policy = deployedRelayPolicy({ cidrs: parsed.cidrs, hosts: [] });

    // Act and assess
    expect(judgeRelayAddress(policy, 'relay', ip('10.9.8.7'))).toEqual({ ok: true });
    expect(judgeRelayAddress(policy, 'relay', ip('::ffff:10.9.8.7'))).toEqual({ ok: true });
    expect(judgeRelayAddress(policy, 'relay', ip('192.168.1.254'))).toEqual({ ok: true });
    expect(judgeRelayAddress(policy, 'relay', ip('192.168.2.1'))).toMatchObject({ ok: false, always: false });
    expect(judgeRelayAddress(policy, 'relay', ip('127.0.0.1'))).toMatchObject({ ok: false, always: false });
  });

  test('allowedRelayHosts allows any private address of that name, case and trailing dot aside', () => {
    // Prepare
    const policy = deployedRelayPolicy({ cidrs: [], hosts: ['relay.corp.example'] });

    // Act and assess
    expect(judgeRelayAddress(policy, 'Relay.Corp.Example.', ip('10.20.30.40'))).toEqual({ ok: true });
    expect(judgeRelayAddress(policy, 'other.corp.example', ip('10.20.30.40'))).toMatchObject({ ok: false });
  });

  test('public addresses are allowed everywhere', () => {
    expect(judgeRelayAddress(deployedRelayPolicy(), 'smtp.example.com', ip('203.0.113.25'))).toEqual({
      ok: true,
    });
  });

  test('the refusal names the host, the address and why, at stage connect, for good', () => {
    // Prepare
    const verdict = judgeRelayAddress(deployedRelayPolicy(), 'rebind.example', ip('169.254.169.254'));
    if (verdict.ok) throw new Error('expected a refusal');

    // Act
    const failure = relayAddressRefusal('rebind.example', 587, ip('169.254.169.254'), verdict);

    // Assess
    expect(failure).toMatchObject({ stage: 'connect', transient: false, reason: RELAY_ADDRESS_REFUSED });
    expect(failure.message).toBe(
      'Not connecting to the relay rebind.example:587 (it resolves to 169.254.169.254): 169.254.169.254 is the instance metadata service, which is never connected to',
    );
    expect(failure.transcript).toBeUndefined();
  });

  test('a private address not allowed has its own reason', () => {
    const verdict = judgeRelayAddress(deployedRelayPolicy(), '10.0.0.5', ip('10.0.0.5'));
    if (verdict.ok) throw new Error('expected a refusal');
    const failure = relayAddressRefusal('10.0.0.5', 25, ip('10.0.0.5'), verdict);
    expect(failure.reason).toBe(RELAY_ADDRESS_NOT_ALLOWED);
    expect(failure.message).toBe(
      'Not connecting to the relay 10.0.0.5:25: 10.0.0.5 is private (10.0.0.0/8), which this deployment does not allow relays in',
    );
  });
});

describe('the deployment allowance', () => {
  test.each([
    ['10.0.0.0/8,192.168.1.0/24', ['10.0.0.0/8', '192.168.1.0/24']],
    [' 10.1.2.3 , fd00::/8 ', ['10.1.2.3/32', 'fd00::/8']],
    ['10.1.2.3/8', ['10.0.0.0/8']],
    ['', []],
  ])('%j parses as %j', (text, expected) => {
    const parsed = parseAllowedRelayCidrs(text);
    expect('cidrs' in parsed && parsed.cidrs.map((c) => c.text)).toEqual(expected);
  });

  test.each([
    ['10.0.0.0/33', /not a CIDR range/],
    ['10.0.0/8', /not a CIDR range/],
    ['relay.corp.example', /not a CIDR range/],
    ['169.254.0.0/16', /link-local.*never allowed/],
    ['169.254.169.254/32', /metadata.*never allowed/],
    ['0.0.0.0/0', /never allowed/],
    ['fe80::/64', /link-local/],
  ])('%s is refused', (text, problem) => {
    const parsed = parseAllowedRelayCidrs(text);
    expect('problem' in parsed && parsed.problem).toMatch(problem);
  });

  test('host names are normalized; addresses and bad names are refused', () => {
    expect(parseAllowedRelayHosts('Relay.Corp.Example., mx1.corp.example')).toEqual({
      hosts: ['relay.corp.example', 'mx1.corp.example'],
    });
    expect(parseAllowedRelayHosts('10.0.0.1')).toEqual({
      problem: '"10.0.0.1" is an address: list addresses in allowedRelayCidrs (as 10.0.0.1/32)',
    });
    expect(parseAllowedRelayHosts('bad_name!')).toEqual({
      problem: '"bad_name!" is not a host name like relay.corp.example',
    });
  });
});

describe('save-time check of the relay host', () => {
  const body = (host: string) => ({
    sender: 'notifier@example.com',
    adminContacts: 'ops@example.com',
    smtp: { host, port: 587, encryption: 'starttls' },
  });

  test.each(['169.254.169.254', '[::ffff:169.254.169.254]', 'fd00:ec2::254', '0.0.0.0', '224.0.0.1'])(
    '%s is a field error on smtp.host',
    (host) => {
      // Act
      const result = EmailConfigInputSchema.safeParse(body(host));

      // Assess
      expect(result.success).toBe(false);
      const issue = result.error?.issues.find((i) => i.path.join('.') === 'smtp.host');
      expect(issue?.message).toMatch(/never an SMTP relay/);
    },
  );

  test.each(['127.0.0.1', '10.0.0.5', 'rebind.example', 'smtp.example.com'])(
    '%s is accepted at save (names and private addresses are judged at connect)',
    (host) => {
      expect(EmailConfigInputSchema.safeParse(body(host)).success).toBe(true);
    },
  );

  test('the message names the address and the range', () => {
    expect(alwaysRefusedHostProblem('169.254.169.254')).toBe(
      "169.254.169.254 is the instance metadata service, never an SMTP relay: use the relay's own host name or address",
    );
  });
});
