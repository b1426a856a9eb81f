// GET /openapi.json on the embedded runtime: public, it lists every route the runtime serves
// (the admin API's table and the runtime's own routes), it is structurally an OpenAPI 3.1
// document whose references resolve, and the README's examples validate against its schemas
// with a JSON Schema 2020-12 validator (ajv), not with the zod schemas it was generated from.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ADMIN_API_ROUTES } from '../../functions/admin-api/route-table.js';
import { createLogger } from '../../functions/shared/logger.js';
import { ADMIN_TOKEN_ROUTES } from '../../local-runtime/admin-token-routes.js';
import { LOCAL_RUNTIME_ROUTES } from '../../local-runtime/local-routes.js';
import { PUBLISHER_TOKEN_ROUTES } from '../../local-runtime/publisher-token-routes.js';
import { type LocalRuntime, startLocalRuntime } from '../../local-runtime/server.js';

type Json = Record<string, unknown>;
interface Operation extends Json {
  operationId: string;
  tags: string[];
  security: Json[];
  parameters?: { name: string; in: string; required: boolean; schema: Json }[];
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: Json }> }>;
}

const DOCUMENT_ID = 'https://appliance-notifier.test/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

let dataDir: string;
let runtime: LocalRuntime;
let response: { status: number; contentType: string | null; body: string };
let document: Json & { paths: Record<string, Record<string, Operation>> };
let ajv: Ajv2020;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'openapi-'));
  runtime = await startLocalRuntime({
    port: 0,
    dataDir,
    dailyNoticeTime: 'off',
    clock: () => new Date('2026-11-28T18:00:00Z'),
    log: createLogger({ logLevel: 'ERROR' }),
  });
  // No Authorization header: the document is public.
  const answer = await fetch(`${runtime.url}/openapi.json`);
  response = {
    status: answer.status,
    contentType: answer.headers.get('content-type'),
    body: await answer.text(),
  };
  document = JSON.parse(response.body);
  // The document itself, as the base of the references the tests compile. Formats (email, uri,
  // date-time) are not checked: ajv needs ajv-formats for them.
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(document, DOCUMENT_ID);
});

afterAll(async () => {
  await runtime?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const operations = () =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({
      path,
      method,
      op: item[method] as Operation,
    })),
  );

const pointer = (...segments: string[]) =>
  `#/${segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;

/** A validator for the schema at a place in the served document, resolved by ajv itself. */
const validatorAt = (...segments: string[]) => ajv.compile({ $ref: `${DOCUMENT_ID}${pointer(...segments)}` });

/** The document's operation for a concrete request path (`/clusters/default/email-config`). */
function operationFor(method: string, concretePath: string) {
  const matches = Object.keys(document.paths).filter((template) =>
    new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}/?$`).test(concretePath),
  );
  // The most literal template wins (`/events/envelope` over `/events/{x}` if both existed).
  const template = matches.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
  const op = template ? document.paths[template]?.[method.toLowerCase()] : undefined;
  return template && op ? { template, op } : undefined;
}

describe('GET /openapi.json on the embedded runtime', () => {
  it('answers 200 application/json without a token', () => {
    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^application\/json/);
  });

  it('lists every route of the route table and of the runtime, and nothing else', () => {
    const expected = [
      ...Object.entries(ADMIN_API_ROUTES).map(([id, r]) => ({
        id,
        key: `${r.method} ${r.path}`,
        local: false,
      })),
      ...Object.entries({ ...LOCAL_RUNTIME_ROUTES, ...ADMIN_TOKEN_ROUTES, ...PUBLISHER_TOKEN_ROUTES }).map(
        ([id, r]) => ({
          id,
          key: `${r.method} ${r.path}`,
          local: true,
        }),
      ),
    ];
    const listed = operations().map(({ path, method, op }) => ({
      id: op.operationId,
      key: `${method.toUpperCase()} ${path}`,
      local: op['x-embedded-runtime-only'] === true && op.tags.includes('embedded runtime'),
    }));

    expect(listed).toHaveLength(expected.length);
    expect(listed).toEqual(expect.arrayContaining(expected));
    expect(expected.filter((r) => r.local).length).toBeGreaterThan(0);
  });

  it('secures the admin routes with the bearer scheme (ADMIN_TOKEN here) and leaves the public ones open', () => {
    const scheme = (document.components as { securitySchemes: Record<string, Json> }).securitySchemes.bearer;
    expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(scheme?.description).toContain('ADMIN_TOKEN');
    const all = [...Object.values(ADMIN_API_ROUTES), ...Object.values(LOCAL_RUNTIME_ROUTES)];
    for (const route of all) {
      const op = document.paths[route.path]?.[route.method.toLowerCase()];
      expect(op?.security).toEqual(route.access === 'admin' ? [{ bearer: [] }] : []);
      if (route.access === 'admin') expect(Object.keys(op?.responses ?? {})).toContain('401');
    }
    expect(document.paths['/openapi.json']?.get?.security).toEqual([]);
  });

  it('names PUBLIC_BASE_URL as its server', () => {
    expect(document.servers).toEqual([{ url: runtime.publicBaseUrl }]);
  });

  it('documents the error bodies: 400 with field issues, 404, 413 where routes answer them', () => {
    const put = document.paths['/clusters/{clusterId}/email-config']?.put;
    expect(Object.keys(put?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '201', '400', '413', '415']),
    );
    expect(put?.responses['400']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/Error',
    });
    const error = (document.components as { schemas: Record<string, Json> }).schemas.Error;
    expect(error).toMatchObject({
      required: ['error'],
      properties: { issues: { type: 'array', items: { required: ['path', 'message'] } } },
    });
    const validate = validatorAt('components', 'schemas', 'Error');
    expect(
      validate({ error: 'Invalid email configuration', issues: [{ path: 'smtp.port', message: 'x' }] }),
    ).toBe(true);
    expect(validate({ issues: [] })).toBe(false);
    expect(Object.keys(document.paths['/events/envelope']?.post?.responses ?? {})).toContain('413');
  });
});

describe('structure (OpenAPI 3.1)', () => {
  it('has the required top-level fields', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(document.paths).length).toBeGreaterThan(0);
  });

  it('gives every operation a unique id, responses with descriptions, and every path parameter', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, op } of operations()) {
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      for (const [status, answer] of Object.entries(op.responses)) {
        expect(status).toMatch(/^[1-5]\d\d$/);
        expect(answer.description).toEqual(expect.any(String));
      }
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect(declared.sort()).toEqual(inPath.sort());
      for (const parameter of op.parameters ?? [])
        if (parameter.in === 'path') expect(parameter.required).toBe(true);
    }
  });

  it('resolves every $ref in the document', () => {
    const refs: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) {
          if (key === '$ref' && typeof inner === 'string') refs.push(inner);
          else walk(inner);
        }
      }
    };
    walk(document);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.startsWith('#/')).toBe(true);
      const target = ref
        .slice(2)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce<unknown>((node, segment) => (node as Json | undefined)?.[segment], document);
      expect({ ref, resolved: target !== undefined }).toEqual({ ref, resolved: true });
    }
  });

  it('has schemas that are valid JSON Schema 2020-12 (each one compiles)', () => {
    let compiled = 0;
    for (const { path, method, op } of operations()) {
      op.parameters?.forEach((_p, index) => {
        validatorAt('paths', path, method, 'parameters', String(index), 'schema');
        compiled++;
      });
      for (const type of Object.keys(op.requestBody?.content ?? {})) {
        validatorAt('paths', path, method, 'requestBody', 'content', type, 'schema');
        compiled++;
      }
      for (const [status, answer] of Object.entries(op.responses)) {
        for (const [type, media] of Object.entries(answer.content ?? {})) {
          if (!media.schema) continue;
          validatorAt('paths', path, method, 'responses', status, 'content', type, 'schema');
          compiled++;
        }
      }
    }
    expect(compiled).toBeGreaterThan(20);
  });
});

// ---------------------------------------------------------------------------------------------
// The README's examples, read from README.md
// ---------------------------------------------------------------------------------------------

interface CurlExample {
  method: string;
  path: string;
  query: URLSearchParams;
  body?: unknown;
  source: string;
}

/** The text of a `## ` section, up to the next `## `. */
function readmeSection(readme: string, title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

const codeBlocks = (text: string, language: string) =>
  [...text.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1] as string);

/** The shell commands of a block: continuation lines joined, a quoted multi-line argument kept whole. */
function commands(block: string): string[] {
  const result: string[] = [];
  for (const line of block.replace(/\\\n/g, ' ').split('\n')) {
    const last = result.at(-1);
    if (last !== undefined && (last.match(/'/g)?.length ?? 0) % 2 === 1)
      result[result.length - 1] = `${last}\n${line}`;
    else result.push(line);
  }
  return result;
}

/** Every `curl ... "$API/..."` command of the sh blocks. */
function curlExamples(text: string): CurlExample[] {
  return codeBlocks(text, 'sh').flatMap((block) =>
    commands(block)
      .filter((line) => /^\s*curl\s/.test(line))
      .map((line) => {
        const url = line.match(/"\$API(\/[^"]*)"/)?.[1];
        if (!url) throw new Error(`a README curl without "$API/...": ${line}`);
        const [path, query = ''] = url.split('?') as [string, string?];
        const data = line.match(/\s-d\s+'([\s\S]*?)'/)?.[1];
        return {
          method: line.match(/\s-X\s+([A-Z]+)/)?.[1] ?? (data ? 'POST' : 'GET'),
          path,
          query: new URLSearchParams(query),
          ...(data !== undefined ? { body: JSON.parse(data) } : {}),
          source: line.trim().slice(0, 100),
        };
      }),
  );
}

describe('the README examples', () => {
  const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
  const examples = [
    ...curlExamples(readmeSection(readme, 'Using the API')),
    ...curlExamples(readmeSection(readme, 'Failover events')),
  ];

  it('mention GET /openapi.json in "Using the API"', () => {
    expect(readmeSection(readme, 'Using the API')).toContain('/openapi.json');
  });

  it('are found: the PUT with its body, and the GET and POST routes', () => {
    expect(examples.filter((e) => e.body !== undefined).length).toBeGreaterThanOrEqual(1);
    expect(examples.map((e) => e.method)).toEqual(expect.arrayContaining(['GET', 'PUT', 'POST']));
  });

  it('each call a documented route with the method used', () => {
    for (const example of examples) {
      expect({
        example: example.source,
        documented: operationFor(example.method, example.path) !== undefined,
      }).toEqual({
        example: example.source,
        documented: true,
      });
    }
  });

  it("each send a body, query and path parameters that validate against the document's schemas", () => {
    for (const example of examples) {
      const found = operationFor(example.method, example.path);
      if (!found) throw new Error(`not documented: ${example.source}`);
      const { template, op } = found;
      const method = example.method.toLowerCase();
      if (example.body !== undefined) {
        const validate = validatorAt(
          'paths',
          template,
          method,
          'requestBody',
          'content',
          'application/json',
          'schema',
        );
        expect({
          example: example.source,
          valid: validate(example.body),
          errors: validate.errors ?? null,
        }).toEqual({
          example: example.source,
          valid: true,
          errors: null,
        });
      } else {
        expect(
          op.requestBody === undefined || (op.requestBody as { required?: boolean }).required !== true,
        ).toBe(true);
      }
      const concrete = example.path.split('/');
      (op.parameters ?? []).forEach((parameter, index) => {
        const value =
          parameter.in === 'path'
            ? concrete[template.split('/').indexOf(`{${parameter.name}}`)]
            : (example.query.get(parameter.name) ?? undefined);
        if (value === undefined) {
          expect(parameter.required).toBe(false);
          return;
        }
        const validate = validatorAt('paths', template, method, 'parameters', String(index), 'schema');
        expect({ example: example.source, parameter: parameter.name, valid: validate(value) }).toEqual({
          example: example.source,
          parameter: parameter.name,
          valid: true,
        });
      });
      for (const name of example.query.keys()) {
        expect((op.parameters ?? []).some((p) => p.in === 'query' && p.name === name)).toBe(true);
      }
    }
  });

  it('show a test-email result that validates against the test route 200 response', () => {
    const section = readme.slice(readme.indexOf('### The test-email result'));
    const [json] = codeBlocks(section, 'json');
    const validate = validatorAt(
      'paths',
      '/clusters/{clusterId}/email-config/test',
      'post',
      'responses',
      '200',
      'content',
      'application/json',
      'schema',
    );
    expect(validate(JSON.parse(json as string))).toBe(true);
    expect(validate({ ok: 'no' })).toBe(false);
  });

  it('reject what the API rejects: the PUT body with a port out of range', () => {
    const put = examples.find((e) => e.method === 'PUT' && e.body !== undefined);
    const body = structuredClone(put?.body) as { smtp: { port: number } };
    body.smtp.port = 70000;
    const validate = validatorAt(
      'paths',
      '/clusters/{clusterId}/email-config',
      'put',
      'requestBody',
      'content',
      'application/json',
      'schema',
    );
    expect(validate(body)).toBe(false);
  });
});

it('the sample events (events/samples) validate against POST /events/envelope', () => {
  const dir = join(process.cwd(), 'events', 'samples');
  const samples = readdirSync(dir).filter((file) => file.endsWith('.json'));
  const validate = validatorAt(
    'paths',
    '/events/envelope',
    'post',
    'requestBody',
    'content',
    'application/json',
    'schema',
  );
  expect(samples.length).toBeGreaterThan(0);
  for (const file of samples) {
    const sample = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    expect({ file, valid: validate(sample), errors: validate.errors ?? null }).toEqual({
      file,
      valid: true,
      errors: null,
    });
  }
});
