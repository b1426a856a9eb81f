// The OpenAPI generator on its own: it documents whatever a route table holds (a route added to
// the table later needs only its doc), with the schemas exactly as zod's JSON Schema generator
// gives them, and it refuses what it cannot document faithfully.
import { describe, expect, it } from '@jest/globals';
import * as z from 'zod';
import { buildOpenApiDocument, type DocumentedRoute } from '../../functions/admin-api/openapi-document.js';
import { ADMIN_API_ROUTE_DOCS } from '../../functions/admin-api/route-docs.js';
import { ADMIN_API_ROUTES } from '../../functions/admin-api/route-table.js';
import { EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import { jsonResponse } from '../../functions/shared/http.js';
import { bindRoutes } from '../../functions/shared/http-api.js';
import type { RouteDefinition } from '../../functions/shared/route-definition.js';

type Paths = Record<string, Record<string, Record<string, unknown>>>;

const tableRoutes = <T extends Record<string, RouteDefinition>>(
  table: T,
  docs: { [K in keyof T]: DocumentedRoute['doc'] },
): DocumentedRoute[] =>
  Object.entries(table).map(([id, route]) => ({ ...route, id, doc: docs[id as keyof T] }));

const noop = async () => jsonResponse(200, {});

describe('buildOpenApiDocument', () => {
  it('documents a route added to the table (as the fleet routes will be) with its parameters and body', () => {
    const table = {
      ...ADMIN_API_ROUTES,
      listClusters: { method: 'GET', path: '/clusters', access: 'admin' },
      deleteEmailConfig: { method: 'DELETE', path: '/clusters/{clusterId}/email-config', access: 'admin' },
      restoreVersion: {
        method: 'POST',
        path: '/clusters/{clusterId}/email-config/versions/{n}/restore',
        access: 'admin',
      },
    } as const;
    const restoreBody = z.strictObject({ reason: z.string().max(200).optional() });
    const docs = {
      ...ADMIN_API_ROUTE_DOCS,
      listClusters: { summary: 'Every cluster', responses: { 200: { description: 'The fleet' } } },
      deleteEmailConfig: { summary: 'Remove', responses: { 204: { description: 'Removed' } } },
      restoreVersion: {
        summary: 'Restore a version',
        body: { schema: restoreBody, required: false },
        responses: { 200: { description: 'Restored' } },
      },
    };

    const document = buildOpenApiDocument({ runtime: 'lambda', routes: tableRoutes(table, docs) });
    const paths = document.paths as Paths;

    expect(paths['/clusters']?.get).toMatchObject({
      operationId: 'listClusters',
      security: [{ bearer: [] }],
    });
    expect(Object.keys(paths['/clusters/{clusterId}/email-config'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'put',
    ]);
    const restore = paths['/clusters/{clusterId}/email-config/versions/{n}/restore']?.post;
    expect(restore?.parameters).toEqual([
      expect.objectContaining({ name: 'clusterId', in: 'path', required: true }),
      { name: 'n', in: 'path', required: true, schema: { type: 'string' } },
    ]);
    expect(restore?.requestBody).toEqual({
      required: false,
      content: {
        'application/json': { schema: withoutDialect(z.toJSONSchema(restoreBody, { io: 'input' })) },
      },
    });
    expect(Object.keys((restore?.responses as object) ?? {})).toEqual(['200', '401', '403', '500']);
  });

  it("gives the PUT body exactly as z.toJSONSchema converts the API's own schema (input side)", () => {
    const document = buildOpenApiDocument({
      runtime: 'lambda',
      routes: tableRoutes(ADMIN_API_ROUTES, ADMIN_API_ROUTE_DOCS),
    });
    const put = (document.paths as Paths)['/clusters/{clusterId}/email-config']?.put as {
      requestBody: { content: { 'application/json': { schema: unknown } } };
    };

    expect(put.requestBody.content['application/json'].schema).toEqual(
      withoutDialect(z.toJSONSchema(EmailConfigInputSchema, { io: 'input' })),
    );
  });

  it('documents the delivery log: its paging and filter parameters and nextCursor, title, severity', () => {
    // Act
    const document = buildOpenApiDocument({
      runtime: 'lambda',
      routes: tableRoutes(ADMIN_API_ROUTES, ADMIN_API_ROUTE_DOCS),
    });

    // Assess
    const operation = (document.paths as Paths)['/clusters/{clusterId}/deliveries']?.get ?? {};
    const parameters = operation.parameters as Array<{ name: string; in: string; required: boolean }>;
    expect(parameters.filter((p) => p.in === 'query').map((p) => [p.name, p.required])).toEqual([
      ['limit', false],
      ['since', false],
      ['outcome', false],
      ['condition', false],
      ['cursor', false],
    ]);
    type Schema = { properties: Record<string, Schema>; items: Schema };
    const responses = operation.responses as Record<string, { content: Record<string, { schema: Schema }> }>;
    const body = responses['200']?.content['application/json']?.schema;
    expect(Object.keys(body?.properties ?? {})).toEqual(['clusterId', 'items', 'nextCursor']);
    expect(Object.keys(body?.properties.items?.items.properties ?? {})).toEqual(
      expect.arrayContaining(['eventId', 'title', 'severity']),
    );
  });

  it('documents If-Match (a header parameter), the 412 body and the ETag of the configuration routes', () => {
    // Act
    const document = buildOpenApiDocument({
      runtime: 'lambda',
      routes: tableRoutes(ADMIN_API_ROUTES, ADMIN_API_ROUTE_DOCS),
    });

    // Assess
    const paths = document.paths as Paths;
    const config = paths['/clusters/{clusterId}/email-config'] ?? {};
    const restore = paths['/clusters/{clusterId}/email-config/versions/{version}/restore']?.post ?? {};
    type Responses = Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>;
    for (const operation of [config.put ?? {}, config.delete ?? {}, restore]) {
      const parameters = operation.parameters as Array<{ name: string; in: string; required: boolean }>;
      expect(parameters.filter((p) => p.in === 'header')).toEqual([
        expect.objectContaining({ name: 'If-Match', required: false }),
      ]);
      const responses = operation.responses as Responses;
      expect(responses['412']?.headers).toHaveProperty('etag');
      expect(JSON.stringify(responses['412']?.content)).toContain('"current"');
    }
    expect(((config.get?.responses ?? {}) as Responses)['200']?.headers).toHaveProperty('etag');
    expect(((config.put?.responses ?? {}) as Responses)['200']?.headers).toHaveProperty('etag');
  });

  it('names the server and the bearer scheme of each runtime', () => {
    const routes = tableRoutes(ADMIN_API_ROUTES, ADMIN_API_ROUTE_DOCS);
    const lambda = buildOpenApiDocument({
      runtime: 'lambda',
      routes,
      serverUrl: 'https://notifier.example.com/',
    });
    const embedded = buildOpenApiDocument({ runtime: 'embedded', routes });

    expect(lambda.servers).toEqual([{ url: 'https://notifier.example.com' }]);
    expect(lambda.components).toMatchObject({
      securitySchemes: { bearer: { scheme: 'bearer', bearerFormat: 'JWT' } },
    });
    expect(embedded.servers).toBeUndefined();
    expect(embedded.components).toMatchObject({
      securitySchemes: { bearer: { scheme: 'bearer', description: expect.stringContaining('ADMIN_TOKEN') } },
    });
  });

  it('refuses a route served twice, and a schema it cannot represent', () => {
    const doc = { summary: 's', responses: { 200: { description: 'ok' } } };
    const route = { id: 'a', method: 'GET', path: '/x', access: 'admin', doc } as const;

    expect(() => buildOpenApiDocument({ runtime: 'lambda', routes: [route, { ...route, id: 'b' }] })).toThrow(
      /GET \/x \(b\) is served twice/,
    );
    const bigint = { ...doc, responses: { 200: { description: 'ok', schema: z.object({ n: z.bigint() }) } } };
    expect(() => buildOpenApiDocument({ runtime: 'lambda', routes: [{ ...route, doc: bigint }] })).toThrow();
  });

  it('moves the definitions zod extracts (a recursive schema) into components, references included', () => {
    interface Node {
      name: string;
      children: Node[];
    }
    const NodeSchema: z.ZodType<Node> = z.object({
      name: z.string(),
      children: z.array(z.lazy(() => NodeSchema)),
    });
    const route = {
      id: 'tree',
      method: 'GET',
      path: '/tree',
      access: 'public',
      doc: {
        summary: 't',
        responses: { 200: { description: 'ok', schema: z.object({ root: NodeSchema }) } },
      },
    } as const;

    const document = buildOpenApiDocument({ runtime: 'lambda', routes: [route] });
    const text = JSON.stringify(document);

    expect(text).not.toContain('#/$defs/');
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
    for (const ref of refs) expect(schemas[ref]).toBeDefined();
  });
});

it('a table entry without its doc does not compile', () => {
  const table = { ping: { method: 'GET', path: '/ping', access: 'public' } } as const;
  // @ts-expect-error: the docs lack `ping` (npm run typecheck fails if this ever compiles)
  const bind = () => bindRoutes(table, { ping: noop }, {});

  expect(bindRoutes(table, { ping: noop }, { ping: { summary: 'p', responses: {} } })[0]).toMatchObject({
    id: 'ping',
    doc: { summary: 'p' },
  });
  expect(bind).toBeInstanceOf(Function);
});

function withoutDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}
