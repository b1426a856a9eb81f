// `npm run bench:cold`: how long a fresh Node process takes to load each function's bundle,
// against a reference bundle (a handler that only creates an STS client). Bundles are built with
// buildFunctionBundle, as the CDK construct builds them, and loaded with the NODE_OPTIONS the stack
// sets. Runs alternate between bundles so drift in machine load hits all of them alike.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildFunctionBundle, FUNCTION_ENTRIES, LAMBDA_BUNDLE } from '../lib/bundling.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
// BENCH_NODE_OPTIONS='' measures without source maps (what --enable-source-maps costs at load).
const NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS ?? LAMBDA_BUNDLE.nodeOptions;
const REFERENCE = 'sts-reference';

// What each handler validates at import (dummy values; nothing is called).
const FUNCTION_ENV = {
  AWS_REGION: 'eu-central-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  CONFIG_PARAMETER_PREFIX: '/appliance-notifier/clusters',
  CONFIG_KMS_KEY_ID: 'arn:aws:kms:eu-central-1:111111111111:key/00000000-0000-0000-0000-000000000000',
  LEDGER_TABLE_NAME: 'bench-delivery-log',
  EVENT_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/111111111111/bench-events',
  PUBLIC_BASE_URL: 'https://api.example.com',
  // As deployed with the Cognito user pool: the admin API also serves the admin page.
  ADMIN_PAGE_CLIENT_ID: 'bench-client',
  ADMIN_PAGE_AUTHORIZATION_ENDPOINT: 'https://bench.auth.eu-central-1.amazoncognito.com/oauth2/authorize',
  ADMIN_PAGE_TOKEN_ENDPOINT: 'https://bench.auth.eu-central-1.amazoncognito.com/oauth2/token',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
  POWERTOOLS_METRICS_NAMESPACE: 'Bench',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

const entries: Record<string, string> = {
  [REFERENCE]: 'bench/fixtures/sts-reference-handler.ts',
  'admin-api': FUNCTION_ENTRIES.adminApi,
  notify: FUNCTION_ENTRIES.notify,
  'daily-notice': FUNCTION_ENTRIES.dailyNotice,
};

/** Builds as the stack does (index.mjs plus chunks); returns the entry file. */
function bundle(name: string, entry: string, outdir: string): string {
  const dir = join(outdir, name);
  buildFunctionBundle(entry, dir, process.cwd());
  return join(dir, 'index.mjs');
}

/** KB of all JavaScript files of a bundle (the entry and every chunk), maps excluded. */
function totalKb(entryFile: string): number {
  const dir = join(entryFile, '..');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.mjs'));
  return Math.round(files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) / 1024);
}

/** Milliseconds a fresh `node` process spends in `import()` of the bundle (startup excluded). */
function loadOnce(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...FUNCTION_ENV, NODE_OPTIONS },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`loading ${file} failed:\n${result.stderr}`);
  return Number(result.stdout);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

async function main(): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), 'cold-start-'));
  try {
    const files: Record<string, string> = {};
    for (const [name, entry] of Object.entries(entries)) files[name] = bundle(name, entry, outdir);

    const names = Object.keys(files);
    for (const name of names) loadOnce(files[name] as string); // warm the file cache
    const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const name of names) samples[name]?.push(loadOnce(files[name] as string));
    }

    const reference = median(samples[REFERENCE] ?? []);
    const rows = names.map((name) => {
      const file = files[name] as string;
      const ms = median(samples[name] ?? []);
      return {
        bundle: name,
        'entry KB': Math.round(statSync(file).size / 1024),
        'all chunks KB': totalKb(file),
        'map KB': Math.round(statSync(`${file}.map`).size / 1024),
        'median load ms': Number(ms.toFixed(1)),
        'x reference': Number((ms / reference).toFixed(2)),
      };
    });
    console.log(
      `Cold load of each bundle in a fresh node ${process.version} process, median of ${RUNS} runs, NODE_OPTIONS=${NODE_OPTIONS || '(none)'}`,
    );
    console.table(rows);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

await main();
