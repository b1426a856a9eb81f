// Builds the admin page into the three strings its routes serve. One build for every server:
// lib/bundling.ts puts it into the admin API's Lambda bundle, the embedded runtime and the tests
// call it when they start. Runs in Node (esbuild); the page's own code is in the other files.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import type { AdminPageAssets } from '../../functions/admin-api/admin-page-routes.js';

export type { AdminPageAssets };

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export function buildAdminPage(): AdminPageAssets {
  const result = buildSync({
    entryPoints: [
      { in: here('main.ts'), out: 'app' },
      { in: here('app.css'), out: 'app' },
    ],
    // Never written (write: false); esbuild names the outputs after it.
    outdir: here('dist'),
    write: false,
    bundle: true,
    // A browser bundle cannot resolve Node built-ins: importing one fails the build.
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    charset: 'utf8',
    legalComments: 'none',
    // Its `strict` (alwaysStrict) makes esbuild start the classic script with "use strict", as
    // the ES module sources are strict.
    tsconfig: here('tsconfig.json'),
    metafile: true,
    logLevel: 'warning',
  });
  // The page carries the domain's dependency-free rules, never a package (zod would come with
  // the config schema; one import of the wrong module is enough).
  const packages = new Set(
    Object.keys(result.metafile.inputs).flatMap(
      (input) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.slice(1) ?? [],
    ),
  );
  if (packages.size > 0) {
    throw new Error(`The admin page must not bundle packages: ${[...packages].join(', ')}`);
  }
  const output = (extension: string): string => {
    const file = result.outputFiles.find((candidate) => candidate.path.endsWith(extension));
    if (!file) throw new Error(`The admin page build produced no ${extension} file`);
    return file.text;
  };
  return {
    indexHtml: readFileSync(here('index.html'), 'utf8'),
    appJs: output('.js'),
    appCss: output('.css'),
  };
}
