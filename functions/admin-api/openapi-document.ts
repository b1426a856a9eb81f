// GET /openapi.json: an OpenAPI 3.1 document generated from the routes a handler serves and
// their docs (route-docs.ts, the embedded runtime's local-routes.ts), the schemas converted by
// zod's own JSON Schema generator (draft 2020-12, OpenAPI 3.1's dialect). Request bodies and
// query parameters are described by their input side, responses by their output side.
import * as z from 'zod';
import { ClusterIdSchema } from '../kernel/cluster-id-schema.js';
import type { RouteDefinition, RouteDoc, RouteResponseDoc } from '../shared/route-definition.js';
import { ErrorBodySchema, InternalErrorBodySchema } from './api-schemas.js';

export interface DocumentedRoute extends RouteDefinition {
  /** The route's id in its table: the operationId. */
  readonly id: string;
  readonly doc: RouteDoc;
  /** Served by the embedded runtime only (its stand-ins for EventBridge, the schedule, replay). */
  readonly embeddedOnly?: boolean;
}

export interface OpenApiOptions {
  readonly routes: readonly DocumentedRoute[];
  /** PUBLIC_BASE_URL: the one server. */
  readonly serverUrl?: string;
  /** How admin routes authenticate: the JWT authorizer in AWS, `ADMIN_TOKEN` in the embedded runtime. */
  readonly runtime: 'lambda' | 'embedded';
  readonly version?: string;
}

type JsonSchema = Record<string, unknown>;

export const EMBEDDED_RUNTIME_TAG = 'embedded runtime';
const API_TAG = 'admin API';
const ERROR_SCHEMA_REF = '#/components/schemas/Error';

/** Path parameters by name; any other is a plain string. */
const PATH_PARAMETER_SCHEMAS: Record<string, z.ZodType> = { clusterId: ClusterIdSchema };

/**
 * One schema as JSON Schema 2020-12, without its `$schema`. Definitions zod extracts (`$defs`,
 * for recursive schemas or ones registered with an id) move to `components.schemas`, and their
 * references with them, since the schema is embedded in the document.
 */
function jsonSchemaOf(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Record<string, JsonSchema>,
): JsonSchema {
  const {
    $schema: _dialect,
    $defs,
    ...json
  } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    // `z.unknown()` fields (the read-only ones PUT accepts) are representable; anything else
    // that is not (a function, a bigint) must not silently become "anything".
    unrepresentable: 'throw',
  }) as JsonSchema & { $defs?: Record<string, JsonSchema> };
  if (!$defs) return json;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        key === '$ref' && typeof inner === 'string'
          ? inner.replace(/^#\/\$defs\//, '#/components/schemas/')
          : rewrite(inner),
      ]),
    );
  };
  for (const [name, def] of Object.entries($defs)) {
    if (components[name]) throw new Error(`openApiDocument: two schemas define ${name}`);
    components[name] = rewrite(def) as JsonSchema;
  }
  return rewrite(json) as JsonSchema;
}

const pathParameterNames = (path: string) =>
  [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1] as string);

export function buildOpenApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const components: Record<string, JsonSchema> = {};
  components.Error = jsonSchemaOf(ErrorBodySchema, 'output', components);
  const internalError = jsonSchemaOf(InternalErrorBodySchema, 'output', components);

  const responseOf = (response: RouteResponseDoc) => {
    const headers = response.headers
      ? Object.fromEntries(
          Object.entries(response.headers).map(([name, description]) => [
            name,
            { description, schema: { type: 'string' } },
          ]),
        )
      : undefined;
    const contentType = response.contentType ?? 'application/json';
    const schema =
      response.schema === ErrorBodySchema
        ? { $ref: ERROR_SCHEMA_REF }
        : response.schema
          ? jsonSchemaOf(response.schema, 'output', components)
          : undefined;
    const hasBody = response.schema !== undefined || response.contentType !== undefined;
    return {
      description: response.description,
      ...(headers ? { headers } : {}),
      ...(hasBody ? { content: { [contentType]: schema ? { schema } : {} } } : {}),
    };
  };

  const paths: Record<string, Record<string, unknown>> = {};
  const seen = new Set<string>();
  for (const route of options.routes) {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key) || seen.has(route.id))
      throw new Error(`openApiDocument: ${key} (${route.id}) is served twice`);
    seen.add(key);
    seen.add(route.id);
    const { doc } = route;
    const parameters = [
      ...pathParameterNames(route.path).map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: jsonSchemaOf(PATH_PARAMETER_SCHEMAS[name] ?? z.string(), 'input', components),
      })),
      ...[
        ...Object.entries(doc.query?.shape ?? {}).map(([name, schema]) => ['query', name, schema] as const),
        ...Object.entries(doc.requestHeaders?.shape ?? {}).map(
          ([name, schema]) => ['header', name, schema] as const,
        ),
      ].map(([where, name, schema]) => {
        const { description, ...json } = jsonSchemaOf(schema as z.ZodType, 'input', components);
        return {
          name,
          in: where,
          required: !(schema as z.ZodType).safeParse(undefined).success,
          ...(typeof description === 'string' ? { description } : {}),
          schema: json,
        };
      }),
    ];
    const responses: Record<string, unknown> = Object.fromEntries(
      Object.entries(doc.responses).map(([status, response]) => [status, responseOf(response)]),
    );
    if (route.access === 'admin' && !responses['401']) {
      responses['401'] = {
        description: 'No valid token (`WWW-Authenticate: Bearer`)',
        content: { 'application/json': { schema: { $ref: ERROR_SCHEMA_REF } } },
      };
    }
    if (route.access === 'admin' && route.path.includes('{clusterId}') && !responses['403']) {
      responses['403'] = {
        description: 'The caller may not administer this cluster (the message says what would grant it)',
        content: { 'application/json': { schema: { $ref: ERROR_SCHEMA_REF } } },
      };
    }
    responses['500'] ??= {
      description: 'An unexpected error: only the request id; the details are in the log',
      content: { 'application/json': { schema: internalError } },
    };
    const operation = {
      operationId: route.id,
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      tags: [route.embeddedOnly ? EMBEDDED_RUNTIME_TAG : API_TAG],
      ...(route.embeddedOnly ? { 'x-embedded-runtime-only': true } : {}),
      security: route.access === 'admin' ? [{ bearer: [] }] : [],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(doc.body
        ? {
            requestBody: {
              required: doc.body.required,
              ...(doc.body.description ? { description: doc.body.description } : {}),
              content: { 'application/json': { schema: jsonSchemaOf(doc.body.schema, 'input', components) } },
            },
          }
        : {}),
      responses,
    };
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }

  const embedded = options.runtime === 'embedded';
  return {
    openapi: '3.1.0',
    info: {
      title: 'appliance-notifier admin API',
      version: options.version ?? '1',
      description: embedded
        ? 'The embedded runtime: the admin API plus its stand-ins for AWS (tag "embedded runtime").'
        : 'The admin API behind API Gateway.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl.replace(/\/$/, '') }] } : {}),
    tags: [
      { name: API_TAG, description: 'Served in AWS and by the embedded runtime' },
      ...(options.routes.some((route) => route.embeddedOnly)
        ? [{ name: EMBEDDED_RUNTIME_TAG, description: 'Served by the embedded runtime only (`npm start`)' }]
        : []),
    ],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: embedded
          ? {
              type: 'http',
              scheme: 'bearer',
              description:
                'The `ADMIN_TOKEN` of the embedded runtime (default: the token in `<DATA_DIR>/admin-token`).',
            }
          : {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description:
                "A JWT from the API Gateway JWT authorizer's issuer (the Cognito user pool or the configured issuer).",
            },
      },
    },
  };
}
