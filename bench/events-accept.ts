// `npm run bench:accept` (and `npm run bench`): how long `POST /events` takes to answer on the
// embedded runtime while the relay is slow (2 s before it confirms each message), against the
// same with a fast relay. PutEvents answers once the entries are committed to the durable queue
// and sending happens behind it, so a slow relay must not slow the answer: the slow/fast ratio
// of p50 and p99 shows whether it does. Per relay and run: a fresh runtime and data directory,
// one cluster, then 1,000 events as 100 requests of 10 entries and 1,000 as 1,000 requests of 1,
// interleaved (a 10-entry request after every ten 1-entry ones) so both shapes see the same
// background, from BENCH_CONCURRENCY clients at once. Client, runtime and relay share one process,
// so the work of sending competes with acceptance for the CPU (the event loop delay is printed
// for that). Then a bounded wait for the emails, a count of what the relay confirmed, and the
// runtime is stopped: what is not sent yet stays queued, for the next start. Runs alternate the
// order of the relays against drift. Run by hand, never in npm test.
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { CATALOG, CONDITION_IDS, EVENT_SOURCE } from '../events/catalog.js';
import { loadSample } from '../events/samples.js';
import { createLogger } from '../functions/shared/logger.js';
import { type LocalRuntime, startLocalRuntime } from '../local-runtime/server.js';

const EVENTS_PER_SHAPE = Number(process.env.BENCH_EVENTS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const SLOW_REPLY_MS = Number(process.env.BENCH_SLOW_REPLY_MS ?? 2000);
/** Rounds of both relays, in alternating order (fast, slow, then slow, fast, ...) against drift. */
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
/** How long after the last acceptance the bench waits for the slow relay's emails before it stops. */
const DRAIN_MS = Number(process.env.BENCH_DRAIN_MS ?? 10_000);
/** The fast relay is expected to send everything; this only bounds a wait that goes wrong. */
const FAST_DRAIN_MS = 20_000;
/** Where the data directories go (default the OS temp dir; tmpfs would make fsync free). */
const BENCH_DIR = process.env.BENCH_DIR ?? tmpdir();
const WARMUP_REQUESTS = 40;
const SHAPES = [10, 1] as const;
type Shape = (typeof SHAPES)[number];

// smtp-server holds every greeting back 100 ms to catch clients that talk too early; the fast
// relay is to be fast, so the greeting goes out at once (as in bench/notify.ts). The slow relay
// is slow where a loaded relay is: before it confirms the message.
SMTPConnection.prototype.init = function initWithoutGreetingDelay(this: SMTPConnection) {
  (this as unknown as { _setListeners(done: () => void): void })._setListeners(() => this.connectionReady());
};

interface Relay {
  port: number;
  delivered: number;
  close(): Promise<void>;
}

async function startRelay(replyDelayMs: number): Promise<Relay> {
  const relay = { port: 0, delivered: 0, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    // Closing does not wait for sessions the stopped runtime has left.
    closeTimeout: 100,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        const confirm = () => {
          relay.delivered++;
          callback();
        };
        if (replyDelayMs > 0) setTimeout(confirm, replyDelayMs);
        else confirm();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  relay.port = (server.server.address() as { port: number }).port;
  relay.close = () => new Promise<void>((done) => server.close(() => done()));
  return relay;
}

// Logs are formatted and written as in production, to /dev/null; warnings and errors are counted.
const devNull = openSync('/dev/null', 'w');
const realWrite = process.stdout.write.bind(process.stdout);
const logLevels = new Map<string, number>();
const silenceStdout = () => {
  process.stdout.write = ((chunk: string | Uint8Array) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const match of text.matchAll(/"level":"(WARN|ERROR|CRITICAL)"/g)) {
      const level = match[1] as string;
      logLevels.set(level, (logLevels.get(level) ?? 0) + 1);
    }
    writeSync(devNull, text);
    return true;
  }) as typeof process.stdout.write;
};
const restoreStdout = () => {
  process.stdout.write = realWrite;
};

const samples = CONDITION_IDS.map((id) => ({ id, sample: loadSample(id) }));
/** One PutEvents entry of its own appliance, so that no event folds another and each is one email. */
const entryFor = (n: number) => {
  const { id, sample } = samples[n % samples.length] as (typeof samples)[number];
  const detail = {
    ...sample.detail,
    clusterId: 'bench',
    appliance: { ...sample.detail.appliance, hostname: `node-${n}-${randomUUID().slice(0, 8)}.example.com` },
  };
  return { Source: EVENT_SOURCE, DetailType: CATALOG[id].detailType, Detail: JSON.stringify(detail) };
};

/** The requests of one phase, interleaved: one of 10 entries after every ten of 1. */
function requestsOf(firstEvent: number): Array<{ shape: Shape; body: string }> {
  let n = firstEvent;
  const take = (shape: Shape) => ({
    shape,
    body: JSON.stringify({ Entries: Array.from({ length: shape }, () => entryFor(n++)) }),
  });
  const requests: Array<{ shape: Shape; body: string }> = [];
  for (let i = 0; i < EVENTS_PER_SHAPE / 10; i++) {
    for (let k = 0; k < 10; k++) requests.push(take(1));
    requests.push(take(10));
  }
  return requests;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;

interface PhaseResult {
  relay: string;
  latencies: Record<Shape, number[]>;
  accepted: number;
  failedEntries: number;
  httpErrors: number;
  acceptSeconds: number;
  /** How late the event loop ran timers while the requests were answered (ms). */
  loopDelay: { p50: number; p99: number; max: number };
  delivered: number;
  drainSeconds: number;
  queued: { visible: number; inFlight: number; deadLetters: number };
  stopSeconds: number;
  /** Emails the relay confirmed while the runtime stopped (sends already under way). */
  deliveredDuringStop: number;
}

async function phase(name: string, replyDelayMs: number): Promise<PhaseResult> {
  const relay = await startRelay(replyDelayMs);
  const dataDir = mkdtempSync(join(BENCH_DIR, 'bench-events-accept-'));
  let runtime: LocalRuntime | undefined;
  try {
    runtime = await startLocalRuntime({
      port: 0,
      dataDir,
      dailyNoticeTime: 'off',
      log: createLogger({ logLevel: 'INFO' }),
    });
    const { url, adminToken } = runtime;
    const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const configured = await fetch(`${url}/clusters/bench/email-config`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({
        sender: 'appliance@example.com',
        smtp: { host: '127.0.0.1', port: relay.port, encryption: 'none' },
        adminContacts: 'ops@example.com',
        // One email per event: what this test is about (group emails have tests of their own).
        grouping: { waitSeconds: 0 },
        language: 'en',
      }),
    });
    if (!configured.ok)
      throw new Error(`configuring the cluster: ${configured.status} ${await configured.text()}`);

    const result: PhaseResult = {
      relay: name,
      latencies: { 10: [], 1: [] },
      accepted: 0,
      failedEntries: 0,
      httpErrors: 0,
      acceptSeconds: 0,
      loopDelay: { p50: 0, p99: 0, max: 0 },
      delivered: 0,
      drainSeconds: 0,
      queued: { visible: 0, inFlight: 0, deadLetters: 0 },
      stopSeconds: 0,
      deliveredDuringStop: 0,
    };
    const post = async (body: string) => {
      const started = performance.now();
      const response = await fetch(`${url}/events`, { method: 'POST', headers, body });
      const answer = (await response.json()) as { FailedEntryCount?: number; Entries?: unknown[] };
      const ms = performance.now() - started;
      if (!response.ok) result.httpErrors++;
      return { ms, answer };
    };
    // Warm-up (JIT, connections, the configuration cache): answered, queued and sent, not measured.
    for (let i = 0; i < WARMUP_REQUESTS; i++) {
      await post(JSON.stringify({ Entries: [entryFor(1_000_000 + i)] }));
    }
    const warmupEvents = WARMUP_REQUESTS;

    const requests = requestsOf(0);
    let next = 0;
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const acceptStarted = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const request = requests[next++];
          if (!request) break;
          const { ms, answer } = await post(request.body);
          result.latencies[request.shape].push(ms);
          const failed = answer.FailedEntryCount ?? request.shape;
          result.failedEntries += failed;
          result.accepted += request.shape - failed;
        }
      }),
    );
    result.acceptSeconds = (performance.now() - acceptStarted) / 1000;
    loop.disable();
    result.loopDelay = {
      p50: loop.percentile(50) / 1e6,
      p99: loop.percentile(99) / 1e6,
      max: loop.max / 1e6,
    };

    // A bounded wait for the emails: all of them from a fast relay, what fits from a slow one.
    const total = warmupEvents + result.accepted;
    const drainStarted = performance.now();
    const drainMs = replyDelayMs > 0 ? DRAIN_MS : FAST_DRAIN_MS;
    while (relay.delivered < total && performance.now() - drainStarted < drainMs) {
      await new Promise((done) => setTimeout(done, 50));
    }
    result.drainSeconds = (performance.now() - drainStarted) / 1000;
    result.delivered = Math.max(0, relay.delivered - warmupEvents);
    result.queued = await runtime.queue.depth();
    const stopStarted = performance.now();
    await runtime.close();
    runtime = undefined;
    result.stopSeconds = (performance.now() - stopStarted) / 1000;
    result.deliveredDuringStop = relay.delivered - warmupEvents - result.delivered;
    return result;
  } finally {
    await runtime?.close();
    await relay.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const FAST = 'fast';
const SLOW = `slow ${SLOW_REPLY_MS / 1000} s`;
const runs: Array<Record<string, PhaseResult>> = [];
silenceStdout();
try {
  for (let run = 0; run < RUNS; run++) {
    const order: Array<[string, number]> = [
      [FAST, 0],
      [SLOW, SLOW_REPLY_MS],
    ];
    if (run % 2 === 1) order.reverse();
    const round: Record<string, PhaseResult> = {};
    for (const [name, delay] of order) round[name] = await phase(name, delay);
    runs.push(round);
  }
} finally {
  restoreStdout();
  closeSync(devNull);
}

const sortedOf = (values: number[]) => [...values].sort((a, b) => a - b);
const stats = (values: number[]) => {
  const sorted = sortedOf(values);
  return {
    min: sorted[0] as number,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) as number,
  };
};
const of = (name: string) => runs.map((round) => round[name] as PhaseResult);
const pooled = (name: string, shape: Shape) => of(name).flatMap((result) => result.latencies[shape]);
const ms = (value: number, width = 8) => value.toFixed(2).padStart(width);

console.log(
  `POST /events acceptance latency, embedded runtime (SQLite queue, synchronous=FULL, data in ${BENCH_DIR}), ${CONCURRENCY} clients at once, one process`,
);
console.log(
  `per relay and run: ${EVENTS_PER_SHAPE} events as ${EVENTS_PER_SHAPE / 10} requests x 10 entries and ${EVENTS_PER_SHAPE} as ${EVENTS_PER_SHAPE} requests x 1 entry, interleaved; ${RUNS} run(s); times in ms`,
);
console.log('');
console.log(
  '  relay     entries  requests       min       p50       p99       max   p50/entry  p99/entry   p50 per run',
);
for (const name of [FAST, SLOW]) {
  for (const shape of SHAPES) {
    const values = pooled(name, shape);
    const s = stats(values);
    const perRun = of(name).map((result) => stats(result.latencies[shape]).p50);
    console.log(
      `  ${name.padEnd(8)}  ${String(shape).padStart(7)}  ${String(values.length).padStart(8)}  ${ms(s.min)}  ${ms(s.p50)}  ${ms(s.p99)}  ${ms(s.max)}  ${ms(s.p50 / shape, 10)} ${ms(s.p99 / shape, 10)}   ${perRun.map((v) => v.toFixed(2)).join(', ')}`,
    );
  }
}
console.log('');
for (const shape of SHAPES) {
  const fast = stats(pooled(FAST, shape));
  const slow = stats(pooled(SLOW, shape));
  const perRun = runs.map(
    (round) =>
      stats((round[SLOW] as PhaseResult).latencies[shape]).p50 /
      stats((round[FAST] as PhaseResult).latencies[shape]).p50,
  );
  console.log(
    `  ratio slow/fast, ${String(shape).padStart(2)} entries: p50 ${(slow.p50 / fast.p50).toFixed(2)} x, p99 ${(slow.p99 / fast.p99).toFixed(2)} x; p50 ratio per run ${perRun.map((r) => r.toFixed(2)).join(', ')}  (<= 1: the relay does not slow acceptance)`,
  );
}
console.log('');
const events = EVENTS_PER_SHAPE * SHAPES.length;
for (const [run, round] of runs.entries()) {
  for (const name of [FAST, SLOW]) {
    const result = round[name] as PhaseResult;
    const rejected =
      result.failedEntries + result.httpErrors > 0
        ? `; NOT accepted: ${result.failedEntries} entries, ${result.httpErrors} HTTP errors`
        : '';
    const { p50, p99, max } = result.loopDelay;
    const rest = result.accepted - result.delivered - result.deliveredDuringStop;
    console.log(
      `  run ${run + 1} ${name.padEnd(8)}  accepted ${result.accepted} of ${events} in ${result.acceptSeconds.toFixed(2)} s (${Math.round(result.accepted / result.acceptSeconds)} events/s)${rejected}; event loop delay meanwhile p50 ${p50.toFixed(1)} / p99 ${p99.toFixed(1)} / max ${max.toFixed(1)} ms`,
    );
    console.log(
      `  ${''.padEnd(14)}  emailed ${result.delivered} of ${result.accepted} by ${result.drainSeconds.toFixed(1)} s after the last acceptance${
        rest > 0
          ? `, then stopped (${result.stopSeconds.toFixed(1)} s, ${result.deliveredDuringStop} more sent meanwhile): the other ${rest} stay queued for the next start`
          : ''
      }; dead letters ${result.queued.deadLetters}`,
    );
  }
}
const logged = [...logLevels].map(([level, count]) => `${level} ${count}`).join(', ');
console.log(`  log lines above INFO: ${logged || 'none'}`);
