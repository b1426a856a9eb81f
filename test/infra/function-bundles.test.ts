// The notify and daily notice bundles, built as the stack deploys them (lib/bundling.ts), each
// imported by a plain Node process (no tsx, no jest) with the environment the synthesized
// template gives its function (deploy-time values replaced by dummies), and invoked once: a
// variable the stack forgets, a dependency esbuild did not bundle or a chunk that does not load
// fails here instead of at the first cold start in AWS. (The admin API's bundle:
// admin-api-bundle.test.ts.)
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Template } from 'aws-cdk-lib/assertions';
import { buildFunctionBundle, FUNCTION_ENTRIES, type FunctionName } from '../../lib/bundling.js';
import {
  buildStack,
  deployedEnvironment,
  FUNCTION_DESCRIPTIONS,
  functionId,
  LAMBDA_RUNTIME_ENV,
  RESULT_MARKER,
  runInNode,
} from './support.js';

/** Nothing listens on port 9 (discard) of the loopback: every AWS call is refused at once. */
const UNREACHABLE_AWS = 'http://127.0.0.1:9';

const outdirs: Partial<Record<FunctionName, string>> = {};
let template: Template;

beforeAll(async () => {
  ({ template } = buildStack());
  for (const name of ['notify', 'dailyNotice'] as const) {
    const outdir = await mkdtemp(join(tmpdir(), `${name}-bundle-`));
    buildFunctionBundle(FUNCTION_ENTRIES[name], outdir, process.cwd());
    outdirs[name] = outdir;
  }
}, 120_000);

afterAll(async () => {
  for (const outdir of Object.values(outdirs)) await rm(outdir, { recursive: true, force: true });
});

function outdirOf(name: FunctionName): string {
  const outdir = outdirs[name];
  if (!outdir) throw new Error(`${name} was not built`);
  return outdir;
}

/** The environment of the deployed function, with the Lambda runtime's additions. */
function envOf(name: FunctionName, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...LAMBDA_RUNTIME_ENV,
    ...deployedEnvironment(template, functionId(template, FUNCTION_DESCRIPTIONS[name])),
    ...extra,
  };
}

/** A script that imports the bundle, invokes its handler with `event`, and reports the outcome. */
function invocationScript(name: FunctionName, event: unknown): string {
  const index = pathToFileURL(join(outdirOf(name), 'index.mjs')).href;
  return `
    const report = (value) => process.stdout.write('\\n${RESULT_MARKER}' + JSON.stringify(value));
    const { handler } = await import(${JSON.stringify(index)});
    const context = {
      functionName: ${JSON.stringify(name)}, functionVersion: '1', memoryLimitInMB: '512',
      invokedFunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:${name}:live',
      awsRequestId: 'bundle-test-request', logGroupName: '/aws/lambda/${name}', logStreamName: 's',
      callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 60000,
    };
    try {
      report({ result: await handler(${JSON.stringify(event)}, context) });
    } catch (error) {
      report({ error: { name: error?.name, message: String(error?.message), code: error?.code ?? error?.cause?.code } });
    }`;
}

/** The chunk files of a bundle whose name starts with `prefix` (chunks/[name]-[hash].mjs). */
async function chunksNamed(name: FunctionName, prefix: string): Promise<string[]> {
  const files = await readdir(join(outdirOf(name), 'chunks'));
  return files.filter((file) => file.startsWith(`${prefix}-`) && file.endsWith('.mjs'));
}

describe('the notify bundle', () => {
  it('imports with the stack’s environment and answers an empty SQS batch with no failures', async () => {
    const outcome = await runInNode<{ result?: unknown; error?: unknown }>(
      invocationScript('notify', { Records: [] }),
      envOf('notify', { AWS_ENDPOINT_URL: UNREACHABLE_AWS }),
    );

    expect(outcome).toEqual({ result: { batchItemFailures: [] } });
  });

  it('fails at import when the stack forgets a variable the function needs', async () => {
    const env = envOf('notify');
    delete env.EVENT_QUEUE_URL;

    const outcome = runInNode(invocationScript('notify', { Records: [] }), env);

    await expect(outcome).rejects.toThrow(/EVENT_QUEUE_URL/);
  });

  it('has the SMTP chunks the first send loads, and each loads on its own', async () => {
    // mailer-factory.ts imports the one-connection mailer and the pool on first use.
    const chunks = [
      ...(await chunksNamed('notify', 'smtp-mailer')),
      ...(await chunksNamed('notify', 'smtp-pool')),
    ];
    expect(chunks).toHaveLength(2);
    const code = await readFile(join(outdirOf('notify'), 'index.mjs'), 'utf8');
    const urls = chunks.map((chunk) => pathToFileURL(join(outdirOf('notify'), 'chunks', chunk)).href);
    const loaded = await runInNode<Array<{ exports: string[] }>>(
      `const out = [];
       for (const url of ${JSON.stringify(urls)}) out.push({ exports: Object.keys(await import(url)) });
       process.stdout.write('${RESULT_MARKER}' + JSON.stringify(out));`,
      envOf('notify'),
    );

    for (const chunk of chunks) expect(code).toContain(`chunks/${chunk}`);
    for (const chunk of loaded) expect(chunk.exports.length).toBeGreaterThan(0);
  });
});

describe('the daily notice bundle', () => {
  it('imports with the stack’s environment and, invoked, reaches for SSM (refused here), not an import or env error', async () => {
    const outcome = await runInNode<{
      result?: unknown;
      error?: { name?: string; message: string; code?: string };
    }>(
      invocationScript('dailyNotice', {}),
      envOf('dailyNotice', { AWS_ENDPOINT_URL: UNREACHABLE_AWS, AWS_MAX_ATTEMPTS: '1' }),
    );

    expect(outcome.result).toBeUndefined();
    // listClusterIds: the SDK's first request (SSM), refused by the endpoint given.
    expect(outcome.error).toMatchObject({
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 127.0.0.1:9',
    });
  });

  it('has the SMTP chunk its first send loads', async () => {
    const chunks = await chunksNamed('dailyNotice', 'smtp-mailer');
    expect(chunks).toHaveLength(1);
    const url = pathToFileURL(join(outdirOf('dailyNotice'), 'chunks', chunks[0] as string)).href;
    const loaded = await runInNode<{ exports: string[] }>(
      `process.stdout.write('${RESULT_MARKER}' + JSON.stringify({ exports: Object.keys(await import(${JSON.stringify(url)})) }));`,
      envOf('dailyNotice'),
    );

    expect(loaded.exports.length).toBeGreaterThan(0);
  });
});
