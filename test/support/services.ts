// Services for handler tests, assembled by the one composition root from the embedded runtime's
// adapters under a temporary directory, with whatever a test replaces.
import { type LocalAdapterOptions, localAdapters } from '../../functions/adapters/local/local-adapters.js';
import {
  type Adapters,
  buildServices,
  type ServiceSettings,
  type Services,
} from '../../functions/composition.js';
import { createLogger } from '../../functions/shared/logger.js';

export interface TestServices extends Services {
  close(): Promise<void>;
}

export async function testServices(
  options: LocalAdapterOptions & { adapters?: Partial<Adapters>; settings?: ServiceSettings },
): Promise<TestServices> {
  const { adapters: overrides, settings, ...local } = options;
  const adapters = await localAdapters({ log: createLogger({ logLevel: 'ERROR' }), ...local });
  const services = buildServices(
    { ...adapters, ...overrides },
    settings ?? { publicBaseUrl: 'http://localhost:3000' },
  );
  return Object.assign(services, { close: () => adapters.close() });
}
