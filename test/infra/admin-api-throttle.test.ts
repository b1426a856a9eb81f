import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ADMIN_API_ROUTES, apiGatewayRoutes } from '../../functions/admin-api/route-table.js';
import { publicRouteThrottle } from '../../lib/admin-api.js';
import { buildStack } from './support.js';

// Item 5: unauthenticated routes get their own, lower route-level throttle, so that a flood on
// them cannot starve the admin API.
type RouteSetting = { ThrottlingRateLimit?: number; ThrottlingBurstLimit?: number };
type StageProps = {
  DefaultRouteSettings: { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };
  RouteSettings?: Record<string, RouteSetting>;
};

const keyOf = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
const publicKeys = apiGatewayRoutes()
  .filter((r) => r.access === 'public')
  .map(keyOf);
const adminKeys = apiGatewayRoutes()
  .filter((r) => r.access === 'admin')
  .map(keyOf);

function stageOf(template: Template): { id: string; props: StageProps; dependsOn: string[] } {
  const stages = template.findResources('AWS::ApiGatewayV2::Stage');
  const [id, stage] = Object.entries(stages)[0] as [string, { Properties: StageProps; DependsOn?: string[] }];
  return { id, props: stage.Properties, dependsOn: stage.DependsOn ?? [] };
}

describe.each([
  ['defaults (20/s, burst 40)', {}, 20, 40],
  ['apiRateLimit=100, apiBurstLimit=200', { apiRateLimit: 100, apiBurstLimit: 200 }, 100, 200],
])('public route throttle, %s', (_name, context, stageRate, stageBurst) => {
  let template: Template;
  beforeAll(() => {
    ({ template } = buildStack({ sesIdentity: 'example.com', ...context }));
  });

  test('the route table has public routes (the OAuth redirect, the admin page, the OpenAPI document)', () => {
    expect(publicKeys).toEqual(
      expect.arrayContaining([
        'GET /login/smtp-verification',
        'GET /admin',
        'GET /admin/{proxy+}',
        'GET /openapi.json',
      ]),
    );
  });

  test('GET /openapi.json is routed without the JWT authorizer, and throttled as a public route', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /openapi.json',
      AuthorizationType: 'NONE',
    });
    const setting = stageOf(template).props.RouteSettings?.['GET /openapi.json'];
    const expected = publicRouteThrottle(
      { rateLimit: stageRate, burstLimit: stageBurst },
      apiGatewayRoutes(),
    );
    expect(setting).toEqual({
      ThrottlingRateLimit: expected.rateLimit,
      ThrottlingBurstLimit: expected.burstLimit,
    });
    // An admin route for comparison: behind the authorizer.
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /conditions',
      AuthorizationType: 'JWT',
    });
  });

  test('the stage keeps its default route throttle', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: stageRate, ThrottlingBurstLimit: stageBurst },
    });
  });

  test('every public route key has RouteSettings with limits below the stage default', () => {
    const lower = {
      ThrottlingRateLimit: Match.anyValue(),
      ThrottlingBurstLimit: Match.anyValue(),
    };
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: Match.objectLike(Object.fromEntries(publicKeys.map((key) => [key, lower]))),
    });
    const settings = stageOf(template).props.RouteSettings ?? {};
    for (const key of publicKeys) {
      const s = settings[key];
      expect(s?.ThrottlingRateLimit).toBeGreaterThan(0);
      expect(s?.ThrottlingRateLimit).toBeLessThan(stageRate);
      expect(s?.ThrottlingBurstLimit).toBeGreaterThanOrEqual(1);
      expect(s?.ThrottlingBurstLimit).toBeLessThan(stageBurst);
      expect(Number.isInteger(s?.ThrottlingBurstLimit)).toBe(true);
    }
  });

  test('the public routes together stay well below the stage rate limit (at most a quarter)', () => {
    const settings = stageOf(template).props.RouteSettings ?? {};
    const sum = publicKeys.reduce(
      (total, key) => total + (settings[key]?.ThrottlingRateLimit ?? Infinity),
      0,
    );
    expect(sum).toBeLessThan(stageRate);
    expect(sum).toBeLessThanOrEqual(stageRate / 4);
    // The admin page needs every public route at once: each keeps a usable share.
    expect(sum).toBeGreaterThan((stageRate / 4) * 0.9);
  });

  test('admin routes have no route-level override (no lower limit), and nothing else is named', () => {
    const settings = stageOf(template).props.RouteSettings ?? {};
    for (const key of adminKeys) expect(settings[key]).toBeUndefined();
    expect(Object.keys(settings).sort()).toEqual([...publicKeys].sort());
  });

  test('the stage depends on every public route (RouteSettings must name existing route keys)', () => {
    const { dependsOn } = stageOf(template);
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    for (const key of publicKeys) {
      const id = Object.entries(routes).find(
        ([, r]) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey === key,
      )?.[0];
      expect(id).toBeDefined();
      expect(dependsOn).toContain(id);
    }
  });
});

describe('publicRouteThrottle', () => {
  test('a new public route in the table gets a limit, and the total stays the same share', () => {
    const table = {
      ...ADMIN_API_ROUTES,
      newPublicPage: { method: 'GET', path: '/status', access: 'public' },
    } as const;
    const stage = { rateLimit: 20, burstLimit: 40 };
    const before = publicRouteThrottle(stage, apiGatewayRoutes());
    const after = publicRouteThrottle(stage, apiGatewayRoutes(table));
    expect(after.routeKeys.has('GET /status')).toBe(true);
    // Its GET and its HEAD.
    expect(after.routeKeys.has('HEAD /status')).toBe(true);
    expect(after.routeKeys.size).toBe(before.routeKeys.size + 2);
    expect(after.rateLimit).toBeLessThan(before.rateLimit);
    expect(after.rateLimit * after.routeKeys.size).toBeLessThanOrEqual(stage.rateLimit / 4);
  });

  test('the default stage (20/s, burst 40) with 9 public GET route keys and their HEADs: 0.27/s and burst 2 each', () => {
    const limits = publicRouteThrottle({ rateLimit: 20, burstLimit: 40 }, apiGatewayRoutes());
    expect(limits.routeKeys.size).toBe(18);
    expect(limits.routeKeys.has('GET /')).toBe(true);
    expect(limits.routeKeys.has('HEAD /')).toBe(true);
    expect(limits.routeKeys.has('GET /openapi.json')).toBe(true);
    expect(limits).toMatchObject({ rateLimit: 0.27, burstLimit: 2 });
  });

  test('a stage rate too small to share fails the synth with a message', () => {
    expect(() => publicRouteThrottle({ rateLimit: 0.1, burstLimit: 1 }, apiGatewayRoutes())).toThrow(
      /raise apiRateLimit/,
    );
  });
});
