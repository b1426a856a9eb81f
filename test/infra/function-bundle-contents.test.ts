// What each Lambda bundle loads at init, from esbuild's metafile of the build the stack deploys.
// zod's namespace must stay tree-shakable: one `import { z } from 'zod'` in bundled code makes
// esbuild keep the whole `z` namespace object, every locale included (about 260 KB of the ~440 KB
// zod took in each bundle), which every cold start then parses. `import * as z from 'zod'` keeps
// only what the schemas use.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Metafile } from 'esbuild';
import { buildFunctionBundle, FUNCTION_ENTRIES, type FunctionName } from '../../lib/bundling.js';

const outdir = mkdtempSync(join(tmpdir(), 'bundle-contents-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** The inputs of the entry and of every chunk it imports statically: what a cold start parses. */
function initInputs(metafile: Metafile, entryPoint: string): Map<string, number> {
  // Dynamically imported modules are entry points of their own chunks: pick the function's.
  const entry = Object.keys(metafile.outputs).find((key) => metafile.outputs[key]?.entryPoint === entryPoint);
  const seen = new Set<string>();
  const todo = entry ? [entry] : [];
  const inputs = new Map<string, number>();
  for (let key = todo.pop(); key !== undefined; key = todo.pop()) {
    const output = metafile.outputs[key];
    if (seen.has(key) || !output) continue;
    seen.add(key);
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) inputs.set(input, bytesInOutput);
    for (const imported of output.imports) if (imported.kind === 'import-statement') todo.push(imported.path);
  }
  return inputs;
}

describe.each(Object.keys(FUNCTION_ENTRIES) as FunctionName[])('the %s bundle', (name) => {
  const entry = FUNCTION_ENTRIES[name];
  const metafile = buildFunctionBundle(entry, join(outdir, name), process.cwd());
  const inputs = initInputs(metafile, entry);
  const zodFiles = [...inputs.keys()].filter((input) => input.includes('node_modules/zod/'));

  it('loads zod with its English messages only, without the other locales', () => {
    expect(zodFiles).toContain('node_modules/zod/v4/locales/en.js');
    expect(zodFiles.filter((input) => input.includes('/locales/') && !input.endsWith('/en.js'))).toEqual([]);
  });

  // The OpenAPI document (its generator and the response schemas) is the admin API's alone.
  it(name === 'adminApi' ? 'carries the OpenAPI generator' : 'does not carry the OpenAPI generator', () => {
    const openApiModules = Object.keys(metafile.inputs).filter((input) =>
      /functions\/admin-api\/(openapi-document|api-schemas|route-docs)\.ts$/.test(input),
    );
    expect(openApiModules.length).toBe(name === 'adminApi' ? 3 : 0);
  });

  it('parses under 150 KB of zod at init', () => {
    const bytes = zodFiles.reduce((sum, input) => sum + (inputs.get(input) ?? 0), 0);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(150 * 1024);
  });

  // zod reads `jitless` when a schema is built. Chunks a module imports run before the module's
  // own code, so the setting (functions/shared/zod-jitless.ts, the handler's first import) is in
  // effect for every schema only if each module that uses zod sits in the entry's own output,
  // where esbuild keeps the import order.
  it('builds every schema after the jitless setting, in the entry output', () => {
    const entryOutput = Object.values(metafile.outputs).find((output) => output.entryPoint === entry);
    const entryInputs = Object.keys(entryOutput?.inputs ?? {});
    const usesZod = Object.entries(metafile.inputs)
      .filter(
        ([input, { imports }]) =>
          !input.startsWith('node_modules/') && imports.some((i) => i.path.startsWith('node_modules/zod/')),
      )
      .map(([input]) => input);
    // The metafile lists an output's inputs in the order their code appears in it.
    const setting = entryInputs.indexOf('functions/shared/zod-jitless.ts');
    expect(setting).toBeGreaterThanOrEqual(0);
    expect(usesZod.length).toBeGreaterThan(5);
    const schemaModules = usesZod.filter((input) => input !== 'functions/shared/zod-jitless.ts');
    expect(schemaModules.filter((input) => !(entryInputs.indexOf(input) > setting))).toEqual([]);
  });
});
