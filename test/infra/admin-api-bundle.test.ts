// The admin API's Lambda bundle, built as the stack deploys it, serves the same admin page build
// as the embedded runtime: the bundle is loaded by a plain Node process (no tsx, no jest) and
// asked for the page's script, stylesheet and HTML.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { buildFunctionBundle, FUNCTION_ENTRIES } from '../../lib/bundling.js';
import { buildAdminPage } from '../../web/admin-page/build.js';

let outdir: string;
let served: Record<string, { status: number; body: string }>;

beforeAll(async () => {
  outdir = await mkdtemp(join(tmpdir(), 'admin-api-bundle-'));
  buildFunctionBundle(FUNCTION_ENTRIES.adminApi, outdir, process.cwd());
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(join(outdir, 'index.mjs')).href)});
    const out = {};
    for (const path of ['/admin/', '/admin/app.js', '/admin/app.css']) {
      const r = await handler({ version: '2.0', rawPath: path, headers: {}, isBase64Encoded: false,
        requestContext: { http: { method: 'GET', path }, requestId: 'r' } }, { functionName: 'admin-api' });
      out[path] = { status: r.statusCode, body: r.body };
    }
    process.stdout.write(JSON.stringify(out));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'eu-west-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      CONFIG_PARAMETER_PREFIX: '/appliance-notifier/clusters',
      CONFIG_KMS_KEY_ID: 'alias/appliance-notifier',
      LEDGER_TABLE_NAME: 'ledger',
      PUBLIC_BASE_URL: 'https://api.example.com',
      ADMIN_PAGE_CLIENT_ID: 'page-client',
      ADMIN_PAGE_ISSUER: 'https://issuer.example.com',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
  });
  served = JSON.parse(stdout);
}, 60_000);

afterAll(async () => {
  await rm(outdir, { recursive: true, force: true });
});

it('serves the page build byte for byte from the bundle, without esbuild in it', () => {
  const page = buildAdminPage();

  expect(served['/admin/']).toEqual({ status: 200, body: page.indexHtml });
  expect(served['/admin/app.js']).toEqual({ status: 200, body: page.appJs });
  expect(served['/admin/app.css']).toEqual({ status: 200, body: page.appCss });
});

it('does not carry esbuild (the page is built at bundling time, not at cold start)', async () => {
  const files = (await readdir(outdir, { recursive: true })).filter((file) => file.endsWith('.mjs'));
  const code = (await Promise.all(files.map((file) => readFile(join(outdir, file), 'utf8')))).join('\n');

  expect(files.length).toBeGreaterThan(0);
  expect(code).not.toContain('buildSync');
});
