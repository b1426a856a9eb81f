// The admin API's Lambda bundle, built as the stack deploys it, serves the same admin page build
// as the embedded runtime: the bundle is loaded by a plain Node process (no tsx, no jest), with
// the environment the synthesized template gives the function, and asked for the page's script,
// stylesheet and HTML. (The other bundles: function-bundles.test.ts.)
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { ADMIN_API_ROUTES } from '../../functions/admin-api/route-table.js';
import { buildAdminPage } from '../../web/admin-page/build.js';
import { buildBundle, chunksNamed, lambdaEnvironment, loadChunks } from './bundles.js';
import { buildStack, LAMBDA_RUNTIME_ENV, RESULT_MARKER, runInNode } from './support.js';

let outdir: string;
let served: Record<string, { status: number; body: string; contentType: string }>;
let environment: Record<string, string>;

beforeAll(async () => {
  outdir = await buildBundle('adminApi');
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(join(outdir, 'index.mjs')).href)});
    const out = {};
    for (const path of ['/admin/', '/admin/app.js', '/admin/app.css', '/openapi.json']) {
      const r = await handler({ version: '2.0', rawPath: path, headers: {}, isBase64Encoded: false,
        requestContext: { http: { method: 'GET', path }, requestId: 'r' } }, { functionName: 'admin-api' });
      out[path] = { status: r.statusCode, body: r.body, contentType: r.headers['content-type'] };
    }
    process.stdout.write('${RESULT_MARKER}' + JSON.stringify(out));`;
  const { template } = buildStack();
  environment = lambdaEnvironment(template, 'adminApi', { POWERTOOLS_LOG_LEVEL: 'ERROR' });
  served = await runInNode(script, environment);
}, 60_000);

afterAll(async () => {
  await rm(outdir, { recursive: true, force: true });
});

it('serves the page build byte for byte from the bundle, without esbuild in it', () => {
  const page = buildAdminPage();

  expect(served['/admin/']).toMatchObject({ status: 200, body: page.indexHtml });
  expect(served['/admin/app.js']).toMatchObject({ status: 200, body: page.appJs });
  expect(served['/admin/app.css']).toMatchObject({ status: 200, body: page.appCss });
});

it('serves GET /openapi.json without a token: the route table, AWS routes only, JWT bearer, PUBLIC_BASE_URL', () => {
  const openApi = served['/openapi.json'];
  expect(openApi?.status).toBe(200);
  expect(openApi?.contentType).toMatch(/^application\/json/);
  const document = JSON.parse(openApi?.body ?? '{}');
  const listed = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
    ([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );

  expect(document.openapi).toBe('3.1.0');
  expect(listed.sort()).toEqual(
    Object.values(ADMIN_API_ROUTES)
      .map((r) => `${r.method} ${r.path}`)
      .sort(),
  );
  expect(document.components.securitySchemes.bearer).toMatchObject({ scheme: 'bearer', bearerFormat: 'JWT' });
  expect(document.servers).toEqual([{ url: environment.PUBLIC_BASE_URL?.replace(/\/$/, '') }]);
});

it('does not carry esbuild (the page is built at bundling time, not at cold start)', async () => {
  const files = (await readdir(outdir, { recursive: true })).filter((file) => file.endsWith('.mjs'));
  const code = (await Promise.all(files.map((file) => readFile(join(outdir, file), 'utf8')))).join('\n');

  expect(files.length).toBeGreaterThan(0);
  expect(code).not.toContain('buildSync');
});

it('has the SMTP chunk the test email loads, and it loads on its own', async () => {
  const chunks = await chunksNamed(outdir, 'smtp-mailer');
  expect(chunks).toHaveLength(1);
  const [loaded] = await loadChunks(outdir, chunks, { ...LAMBDA_RUNTIME_ENV });

  expect(loaded?.exports.length).toBeGreaterThan(0);
});
