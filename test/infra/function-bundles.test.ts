// The notify and daily notice bundles, built as the stack deploys them (lib/bundling.ts), each
// imported by a plain Node process (no tsx, no jest) with the environment the synthesized
// template gives its function (deploy-time values replaced by dummies), and invoked once: a
// variable the stack forgets, a dependency esbuild did not bundle or a chunk that does not load
// fails here instead of at the first cold start in AWS. (The admin API's bundle:
// admin-api-bundle.test.ts.)
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Template } from 'aws-cdk-lib/assertions';
import type { FunctionName } from '../../lib/bundling.js';
import { buildBundle, chunksNamed, lambdaEnvironment, loadChunks } from './bundles.js';
import { buildStack, RESULT_MARKER, runInNode } from './support.js';

/** Nothing listens on port 9 (discard) of the loopback: every AWS call is refused at once. */
const UNREACHABLE_AWS = 'http://127.0.0.1:9';

const outdirs: Partial<Record<FunctionName, string>> = {};
let template: Template;

beforeAll(async () => {
  ({ template } = buildStack());
  for (const name of ['notify', 'dailyNotice'] as const) {
    outdirs[name] = await buildBundle(name);
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
  return lambdaEnvironment(template, name, extra);
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
      ...(await chunksNamed(outdirOf('notify'), 'smtp-mailer')),
      ...(await chunksNamed(outdirOf('notify'), 'smtp-pool')),
    ];
    expect(chunks).toHaveLength(2);
    const code = await readFile(join(outdirOf('notify'), 'index.mjs'), 'utf8');
    const loaded = await loadChunks(outdirOf('notify'), chunks, envOf('notify'));

    for (const chunk of chunks) expect(code).toContain(`chunks/${chunk}`);
    for (const chunk of loaded) expect(chunk.exports.length).toBeGreaterThan(0);
  });

  it('has the Microsoft Graph chunk a transport "graph" send loads, and it loads on its own', async () => {
    const chunks = await chunksNamed(outdirOf('notify'), 'graph-mailer');
    expect(chunks).toHaveLength(1);
    const code = await readFile(join(outdirOf('notify'), 'index.mjs'), 'utf8');
    const [loaded] = await loadChunks(outdirOf('notify'), chunks, envOf('notify'));

    expect(code).toContain(`chunks/${chunks[0]}`);
    expect(loaded?.exports.length).toBeGreaterThan(0);
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
    const chunks = await chunksNamed(outdirOf('dailyNotice'), 'smtp-mailer');
    expect(chunks).toHaveLength(1);
    const [loaded] = await loadChunks(outdirOf('dailyNotice'), chunks, envOf('dailyNotice'));

    expect(loaded?.exports.length).toBeGreaterThan(0);
  });
});
