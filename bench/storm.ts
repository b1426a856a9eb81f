// `npm run bench:storm` (by hand, never in npm test): an alert storm through a simulated Exchange
// Online relay (3 authenticated sessions, 30 messages a minute, STARTTLS + AUTH, 40 ms round
// trip), side by side:
//   A. this service (`npm start`'s runtime in a child process),
//   B. Prometheus Alertmanager grouped per cluster (when its binary is installed),
//   C. a bare pooled nodemailer script sending as many emails as A sent.
// It measures, per side: events accounted for, emails the relay accepted, the most concurrent
// sessions, throttling replies, time to the first email, time until every event is in an email,
// CPU seconds and peak RSS of the process under test; then the issue-12 ratios and targets.
// Each side runs once, each on a fresh relay. Settings (environment):
//   STORM_QUICK=1           50 appliances in 2 clusters, relay 300 messages a minute (development)
//   STORM_MAX_SECONDS       how long a side may take before it is stopped (default 420; quick 150)
//   STORM_SIDES             which sides to run (default A,B,C)
//   STORM_RATE_MODE         reply (default: 421 4.4.2 over the rate) or delay (Exchange Online's
//                           documented carry-over; see bench/storm/exchange-relay.ts)
//   STORM_RELAY_PER_MINUTE  the relay's messages per window; STORM_RELAY_WINDOW_SECONDS its window
//   STORM_SEED, STORM_IN_FLIGHT (50), STORM_ENTRIES_PER_REQUEST (1), STORM_WAVE_GAP_SECONDS (5),
//   STORM_WAIT_SECONDS (30), STORM_INTERVAL_MINUTES (5)
import { findAlertmanager, runAlertmanagerSide } from './storm/alertmanager-side.js';
import type { RateMode } from './storm/exchange-relay.js';
import { runPooledSide } from './storm/pooled-side.js';
import { runServiceSide } from './storm/service-side.js';
import { type SideResult, type StormSettings, throttleTotal } from './storm/side-result.js';
import { makeStormPlan } from './storm/storm-plan.js';

const env = process.env;
const quick = env.STORM_QUICK === '1';
const num = (name: string, fallback: number) => {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a number, not "${value}"`);
  return parsed;
};
const rateMode = (env.STORM_RATE_MODE ?? 'reply') as RateMode;
if (rateMode !== 'reply' && rateMode !== 'delay') throw new Error('STORM_RATE_MODE must be reply or delay');
const sides = new Set(
  (env.STORM_SIDES ?? 'A,B,C')
    .toUpperCase()
    .split(',')
    .map((s) => s.trim()),
);

const plan = makeStormPlan({
  clusters: quick ? 2 : 10,
  appliancesPerCluster: quick ? 25 : 50,
  seed: num('STORM_SEED', 12),
});
const settings: StormSettings = {
  plan,
  relay: {
    maxSessions: 3,
    messagesPerWindow: num('STORM_RELAY_PER_MINUTE', quick ? 300 : 30),
    windowMs: num('STORM_RELAY_WINDOW_SECONDS', 60) * 1000,
    rateMode,
    oneWayDelayMs: 20,
  },
  inFlight: num('STORM_IN_FLIGHT', 50),
  entriesPerRequest: Math.min(10, Math.max(1, num('STORM_ENTRIES_PER_REQUEST', 1))),
  waveGapSeconds: num('STORM_WAVE_GAP_SECONDS', 5),
  maxSeconds: num('STORM_MAX_SECONDS', quick ? 150 : 420),
  grouping: { waitSeconds: num('STORM_WAIT_SECONDS', 30), intervalMinutes: num('STORM_INTERVAL_MINUTES', 5) },
};

const say = (line: string) => process.stdout.write(`${line}\n`);
say(
  `storm: ${plan.wave1.length} appliances in ${plan.clusters.length} clusters, wave 2: ${plan.wave2.length} events ` +
    `(${plan.wave2.filter((e) => e.repeat).length} repeats, ${plan.wave2.filter((e) => !e.repeat).length} failover follow-ons); ` +
    `${settings.inFlight} in flight; relay: ${settings.relay.maxSessions} sessions, ${settings.relay.messagesPerWindow} messages per ` +
    `${settings.relay.windowMs / 1000} s (${rateMode} mode), ${settings.relay.oneWayDelayMs * 2} ms round trip; ` +
    `each side bounded at ${settings.maxSeconds} s${quick ? ' (quick mode)' : ''}`,
);

const results: SideResult[] = [];
const skipped = (side: string, why: string): SideResult => ({
  side,
  skipped: why,
  emails: 0,
  peakOpenConnections: 0,
  peakAuthenticatedSessions: 0,
  startTlsHandshakes: 0,
  authSuccesses: 0,
  throttles: {},
  waitedSeconds: 0,
  notes: [],
});

let a: SideResult | undefined;
let b: SideResult | undefined;
if (sides.has('A')) {
  say('side A: this service ...');
  a = await runServiceSide(settings);
  results.push(a);
} else results.push(skipped('A: this service', 'not selected (STORM_SIDES)'));

const binary = findAlertmanager();
if (!sides.has('B')) results.push(skipped('B: Alertmanager', 'not selected (STORM_SIDES)'));
else if (!binary) {
  say('alertmanager not installed: skipped');
  results.push(skipped('B: Alertmanager', 'alertmanager not installed'));
} else {
  say(`side B: Alertmanager (${binary}) ...`);
  b = await runAlertmanagerSide(settings, binary);
  results.push(b);
}

let c: SideResult | undefined;
const reference = a && !a.skipped ? a : b;
if (!sides.has('C')) results.push(skipped('C: pooled nodemailer', 'not selected (STORM_SIDES)'));
else if (!reference || reference.emails === 0)
  results.push(skipped('C: pooled nodemailer', 'no email count to match'));
else {
  say(`side C: pooled nodemailer, ${reference.emails} emails (as many as ${reference.side} sent) ...`);
  c = await runPooledSide(settings, reference.emails, 4000);
  results.push(c);
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const dash = '-';
const throttleText = (t: Record<string, number>) =>
  throttleTotal(t) === 0
    ? '0'
    : `${throttleTotal(t)} (${Object.entries(t)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ')})`;
const rows: Array<[string, (r: SideResult) => string]> = [
  ['events accounted for', (r) => (r.events === undefined ? dash : `${r.accounted} of ${r.events}`)],
  ['  first wave', (r) => (r.wave1Events === undefined ? dash : `${r.wave1Accounted} of ${r.wave1Events}`)],
  ['emails sent (relay accepted)', (r) => String(r.emails)],
  [
    'most concurrent sessions (TCP / authenticated)',
    (r) => `${r.peakOpenConnections} / ${r.peakAuthenticatedSessions}`,
  ],
  ['throttling replies provoked', (r) => throttleText(r.throttles)],
  [
    'time to the first email',
    (r) => (r.firstEmailSeconds === undefined ? 'none' : `${r.firstEmailSeconds} s`),
  ],
  [
    'time until every event is in an email',
    (r) =>
      r.allAccountedSeconds === undefined ? `not within ${r.waitedSeconds} s` : `${r.allAccountedSeconds} s`,
  ],
  ['CPU seconds (during the storm)', (r) => (r.cpuSeconds === undefined ? dash : `${r.cpuSeconds} s`)],
  ['peak RSS', (r) => (r.peakRssMiB === undefined ? dash : `${r.peakRssMiB} MiB`)],
  [
    'most emails to one cluster in 5 min',
    (r) => (r.maxEmailsPerClusterFirst5Min === undefined ? dash : String(r.maxEmailsPerClusterFirst5Min)),
  ],
];
const width0 = Math.max(...rows.map(([label]) => label.length));
const cell = (r: SideResult, f: (r: SideResult) => string) => (r.skipped ? `skipped` : f(r));
const widths = results.map((r) => Math.max(r.side.length, ...rows.map(([, f]) => cell(r, f).length)));
const line = (cells: string[]) =>
  `| ${cells.map((text, i) => text.padEnd(i === 0 ? width0 : (widths[i - 1] as number))).join(' | ')} |`;
say('');
say(line(['', ...results.map((r) => r.side)]));
say(line(['-'.repeat(width0), ...widths.map((w) => '-'.repeat(w))]));
for (const [label, f] of rows) say(line([label, ...results.map((r) => cell(r, f))]));
say('');
for (const r of results) {
  if (r.skipped) {
    say(`${r.side}: skipped (${r.skipped})`);
    continue;
  }
  if (r.breakdown) say(`${r.side}: outcomes ${JSON.stringify(r.breakdown)}`);
  for (const note of r.notes) say(`${r.side}: ${note}`);
}

// ---------------------------------------------------------------------------------------------
// Ratios and targets (issue 12)
// ---------------------------------------------------------------------------------------------

const verdict = (met: boolean | undefined) => (met === undefined ? 'n/a    ' : met ? 'met    ' : 'not met');
const round2 = (x: number) => Math.round(x * 100) / 100;
say('');
const ratioTime =
  a?.allAccountedSeconds !== undefined && c?.allAccountedSeconds
    ? a.allAccountedSeconds / c.allAccountedSeconds
    : undefined;
const cpuPerEvent = (r: SideResult | undefined) =>
  r?.cpuSeconds !== undefined && r.events ? r.cpuSeconds / r.events : undefined;
const ratioCpu =
  cpuPerEvent(a) !== undefined && cpuPerEvent(b)
    ? (cpuPerEvent(a) as number) / (cpuPerEvent(b) as number)
    : undefined;
say(
  `time-to-all A / C: ${ratioTime === undefined ? `n/a (${a?.allAccountedSeconds === undefined ? 'A never had every event in an email' : 'C did not finish'})` : round2(ratioTime)}`,
);
say(
  `CPU per event A / B: ${ratioCpu === undefined ? 'n/a' : round2(ratioCpu)} (A ${cpuPerEvent(a) === undefined ? dash : `${round2((cpuPerEvent(a) as number) * 1000)} ms`}, B ${cpuPerEvent(b) === undefined ? dash : `${round2((cpuPerEvent(b) as number) * 1000)} ms`} per event)`,
);
if (a && !a.skipped) {
  const checks: Array<[string, boolean | undefined, string]> = [
    [
      'every event in an email or final, none lost',
      a.accounted === a.events,
      `${a.accounted} of ${a.events} (first wave ${a.wave1Accounted} of ${a.wave1Events})`,
    ],
    ['0 throttling replies', throttleTotal(a.throttles) === 0, throttleText(a.throttles)],
    [
      'at most 3 sessions',
      a.peakOpenConnections <= 3,
      `${a.peakOpenConnections} TCP, ${a.peakAuthenticatedSessions} authenticated`,
    ],
    [
      'at most 2 emails per cluster in the first 5 minutes',
      (a.maxEmailsPerClusterFirst5Min ?? 0) <= 2,
      `most: ${a.maxEmailsPerClusterFirst5Min}`,
    ],
    [
      'first email within waitSeconds + 2 s',
      a.firstEmailSeconds === undefined ? false : a.firstEmailSeconds <= (a.waitSeconds ?? 0) + 2,
      `${a.firstEmailSeconds ?? 'none'} s, waitSeconds ${a.waitSeconds}`,
    ],
    [
      'time-to-all at most 1.1 x the pooled script',
      ratioTime === undefined ? (c ? false : undefined) : ratioTime <= 1.1,
      ratioTime === undefined ? 'no ratio' : `${round2(ratioTime)}x`,
    ],
    [
      "CPU per event at most Alertmanager's",
      ratioCpu === undefined ? undefined : ratioCpu <= 1,
      ratioCpu === undefined ? 'no ratio' : `${round2(ratioCpu)}x`,
    ],
  ];
  say('targets for A:');
  for (const [name, met, figures] of checks) say(`  ${verdict(met)} ${name}: ${figures}`);
}
process.exit(0);
