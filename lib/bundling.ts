// How every Lambda bundle is built. The CDK construct (notifier-function.ts) and the cold-start
// benchmark (bench/cold-start.ts) both call buildFunctionBundle, so the benchmark measures
// exactly what the stack deploys. No aws-cdk-lib import: the bench loads this cheaply.
import { buildSync, type Metafile } from 'esbuild';
import { buildAdminPage } from '../web/admin-page/build.js';

/**
 * ESM output cannot `require()`, but some CommonJS dependencies inside the bundle still do
 * (`require('node:crypto')` and the like). The banner gives the module a real `require`;
 * the aliased import cannot collide with a `createRequire` the bundled code declares itself.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";

export const LAMBDA_BUNDLE = {
  platform: 'node',
  target: 'node22',
  format: 'esm',
  /** ESM builds of the AWS SDK and Powertools tree-shake better than their CommonJS builds. */
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: true,
  /**
   * The maps carry positions and names, not the sources themselves: a stack trace needs only
   * those, and with `--enable-source-maps` every cold start reads and parses the map of each
   * module it loads (the sources made up about three quarters of each map).
   */
  sourcesContent: false,
  banner: ESM_REQUIRE_BANNER,
  /**
   * The SDK clients are bundled at the versions package-lock.json pins instead of using the copy in
   * the Lambda runtime, which changes without notice: what was tested is what runs.
   */
  bundleAwsSdk: true,
  /** Stack traces in the logs point at the TypeScript sources (set on every function). */
  nodeOptions: '--enable-source-maps',
} as const;

/** The entry (`handler.ts`) of each function, relative to the repository root. */
export const FUNCTION_ENTRIES = {
  adminApi: 'functions/admin-api/handler.ts',
  notify: 'functions/notify/handler.ts',
  dailyNotice: 'functions/daily-notice/handler.ts',
} as const;
export type FunctionName = keyof typeof FUNCTION_ENTRIES;

/**
 * Constants esbuild writes into a bundle. The admin API serves the admin page: its bundle carries
 * the page built by buildAdminPage (the build the embedded runtime and the tests serve too) as
 * `__ADMIN_PAGE_ASSETS__`, a JSON string read by functions/admin-api/admin-page-assets.ts.
 * (esbuild's plugins, which could load a virtual module instead, do not run in buildSync.)
 */
function bundleDefines(entry: string): Record<string, string> {
  if (entry !== FUNCTION_ENTRIES.adminApi) return {};
  return { __ADMIN_PAGE_ASSETS__: JSON.stringify(JSON.stringify(buildAdminPage())) };
}

/**
 * Builds one function into `outdir` (`index.mjs` plus chunks) as the stack deploys it. Code
 * splitting puts what a function imports only on demand (the SES transport and its SDK client,
 * the SMTP transport) into chunks of their own, so a cold start does not parse the transport a
 * configuration does not use. Returns esbuild's metafile (what each output holds, by input).
 */
export function buildFunctionBundle(entry: string, outdir: string, workingDirectory: string): Metafile {
  const result = buildSync({
    absWorkingDir: workingDirectory,
    entryPoints: { index: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: LAMBDA_BUNDLE.platform,
    target: LAMBDA_BUNDLE.target,
    format: LAMBDA_BUNDLE.format,
    mainFields: [...LAMBDA_BUNDLE.mainFields],
    minify: LAMBDA_BUNDLE.minify,
    sourcemap: LAMBDA_BUNDLE.sourcemap,
    sourcesContent: LAMBDA_BUNDLE.sourcesContent,
    banner: { js: LAMBDA_BUNDLE.banner },
    define: bundleDefines(entry),
    metafile: true,
    logLevel: 'warning',
  });
  return result.metafile;
}
