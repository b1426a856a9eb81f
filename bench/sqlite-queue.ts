// `npm run bench:queue`: how long SqliteEventQueue.send takes to return, that is until a batch
// is committed and fsynced (synchronous=FULL), for batches of 1 and 10 EventBridge events.
// synchronous=NORMAL (WAL synced at checkpoints only: safe against a crash of the process, not
// of the machine) is measured alongside, interleaved, to show what FULL costs, and so is one
// bare fsync of a small file in the same directory: FULL costs about one fsync per commit, and
// what an fsync costs is up to the disk (on a virtual disk it changes with the host). Run by hand,
// never in npm test. BENCH_DIR picks the file system (default: the OS temp dir; tmpfs would
// make fsync free and the figures meaningless).
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSample } from '../events/samples.js';
import { SqliteDatabase } from '../functions/adapters/local/sqlite-database.js';
import { SqliteEventQueue } from '../functions/adapters/local/sqlite-event-queue.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SENDS = Number(process.env.BENCH_SENDS ?? 200);
const BATCH_SIZES = [1, 10] as const;
const MODES = ['FULL', 'NORMAL'] as const;
type Mode = (typeof MODES)[number];

const body = JSON.stringify(loadSample('promotion-pending'));
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
};

async function openQueue(directory: string, mode: Mode) {
  const database = await SqliteDatabase.open({ directory });
  database.connection.pragma(`synchronous = ${mode}`);
  return { database, queue: new SqliteEventQueue({ database }) };
}

const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'bench-sqlite-queue-'));
// Per mode and batch size: the median and p99 send latency of each run.
const medians = new Map<string, number[]>();
const p99s = new Map<string, number[]>();
try {
  for (let run = 0; run < RUNS; run++) {
    const queues = new Map<Mode, Awaited<ReturnType<typeof openQueue>>>();
    for (const mode of MODES) queues.set(mode, await openQueue(join(root, `run-${run}-${mode}`), mode));
    const samples = new Map<string, number[]>();
    const probe = openSync(join(root, `fsync-probe-${run}`), 'w');
    for (let i = 0; i < SENDS; i++) {
      writeSync(probe, body);
      const synced = performance.now();
      fsyncSync(probe);
      samples.set('fsync', [...(samples.get('fsync') ?? []), performance.now() - synced]);
      // Interleaved, so a noisy moment of the machine hits every side alike.
      for (const size of BATCH_SIZES) {
        const bodies = Array.from({ length: size }, () => body);
        for (const mode of MODES) {
          const { queue } = queues.get(mode) as { queue: SqliteEventQueue };
          const started = performance.now();
          await queue.send(bodies);
          const key = `${mode}/${size}`;
          const list = samples.get(key) ?? [];
          list.push(performance.now() - started);
          samples.set(key, list);
        }
      }
    }
    for (const [key, values] of samples) {
      medians.set(key, [...(medians.get(key) ?? []), median(values)]);
      p99s.set(key, [...(p99s.get(key) ?? []), percentile(values, 0.99)]);
    }
    closeSync(probe);
    for (const { database } of queues.values()) database.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

const range = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `${(sorted[0] as number).toFixed(2)} / ${median(sorted).toFixed(2)} / ${(sorted.at(-1) as number).toFixed(2)}`;
};
console.log(
  `SqliteEventQueue.send, ${RUNS} runs of ${SENDS} sends each, ${body.length}-byte events, in ${root}`,
);
console.log('per run: the median send latency; over runs: min / median / max, in ms');
console.log('');
console.log('  synchronous  batch  median send (ms)       p99 send (ms)          per event (median, ms)');
console.log(
  `  ${'bare fsync'.padEnd(11)}  ${''.padStart(5)}  ${range(medians.get('fsync') ?? []).padEnd(21)}  ${range(p99s.get('fsync') ?? [])}`,
);
for (const mode of MODES) {
  for (const size of BATCH_SIZES) {
    const key = `${mode}/${size}`;
    const perEvent = median(medians.get(key) ?? []) / size;
    console.log(
      `  ${mode.padEnd(11)}  ${String(size).padStart(5)}  ${range(medians.get(key) ?? []).padEnd(21)}  ${range(p99s.get(key) ?? []).padEnd(21)}  ${perEvent.toFixed(3)}`,
    );
  }
}
