// What the bundle tests (admin-api-bundle.test.ts, function-bundles.test.ts) share: a function's
// bundle built as the stack deploys it, the environment its deployed function gets, and its
// chunks, each loaded by a plain Node process.
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Template } from 'aws-cdk-lib/assertions';
import { buildFunctionBundle, FUNCTION_ENTRIES, type FunctionName } from '../../lib/bundling.js';
import {
  deployedEnvironment,
  FUNCTION_DESCRIPTIONS,
  functionId,
  LAMBDA_RUNTIME_ENV,
  RESULT_MARKER,
  runInNode,
} from './support.js';

/** Builds the function's bundle (lib/bundling.ts) into a new temporary directory; returns it. */
export async function buildBundle(name: FunctionName): Promise<string> {
  const outdir = await mkdtemp(join(tmpdir(), `${name}-bundle-`));
  buildFunctionBundle(FUNCTION_ENTRIES[name], outdir, process.cwd());
  return outdir;
}

/** The environment of the deployed function, with the Lambda runtime's additions and `extra`. */
export function lambdaEnvironment(
  template: Template,
  name: FunctionName,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...LAMBDA_RUNTIME_ENV,
    ...deployedEnvironment(template, functionId(template, FUNCTION_DESCRIPTIONS[name])),
    ...extra,
  };
}

/** The chunk files of the bundle in `outdir` whose name starts with `prefix` (chunks/[name]-[hash].mjs). */
export async function chunksNamed(outdir: string, prefix: string): Promise<string[]> {
  const files = await readdir(join(outdir, 'chunks'));
  return files.filter((file) => file.startsWith(`${prefix}-`) && file.endsWith('.mjs'));
}

/** Imports each chunk in a plain Node process with `env`; the names each one exports. */
export function loadChunks(
  outdir: string,
  chunks: string[],
  env: Record<string, string>,
): Promise<Array<{ exports: string[] }>> {
  const urls = chunks.map((chunk) => pathToFileURL(join(outdir, 'chunks', chunk)).href);
  return runInNode<Array<{ exports: string[] }>>(
    `const out = [];
     for (const url of ${JSON.stringify(urls)}) out.push({ exports: Object.keys(await import(url)) });
     process.stdout.write('${RESULT_MARKER}' + JSON.stringify(out));`,
    env,
  );
}
