import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { SsmConfigStore } from '../../functions/adapters/aws/ssm-config-store.js';
import type { StoredEmailConfig } from '../../functions/core/config/stored-config.js';
import { passwordConfig, storedConfig } from '../support/config-fixtures.js';

// aws-sdk-client-mock is used because no SSM emulator exists on npm; no request leaves the process.
const PREFIX = '/appliance-notifier/clusters';
const KMS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SECRET = 'hunter2-relay-password';

function storedDocument(clusterId = 'prod-eu', password = SECRET): StoredEmailConfig {
  return storedConfig(clusterId, passwordConfig({ password }));
}

const ssm = mockClient(SSMClient);

function makeStore(options: { cacheTtlMs?: number; now?: { value: number } } = {}) {
  const now = options.now ?? { value: 1_000_000 };
  return new SsmConfigStore({
    client: new SSMClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'x' },
    }),
    parameterPrefix: PREFIX,
    kmsKeyId: KMS_KEY,
    ...(options.cacheTtlMs !== undefined ? { cacheTtlMs: options.cacheTtlMs } : {}),
    clock: () => now.value,
  });
}

beforeEach(() => {
  ssm.reset();
});

describe('SsmConfigStore.put', () => {
  it('writes one SecureString per cluster under the prefix, encrypted with the given KMS key', async () => {
    // Prepare
    ssm.on(PutParameterCommand).resolves({ Version: 1, Tier: 'Standard' });
    const store = makeStore();
    const document = storedDocument();

    // Act
    await store.put(document);

    // Assess
    const calls = ssm.commandCalls(PutParameterCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input).toMatchObject({
      Name: `${PREFIX}/prod-eu/email-config`,
      Type: 'SecureString',
      KeyId: KMS_KEY,
      Overwrite: true,
      Tier: 'Standard',
    });
    expect(JSON.parse(input?.Value ?? '')).toEqual(document);
  });

  it('uses the Advanced tier for a document over 4 KB', async () => {
    // Prepare
    ssm.on(PutParameterCommand).resolves({ Version: 1, Tier: 'Advanced' });
    const store = makeStore();
    const big = storedDocument('big', 'p'.repeat(4000));

    // Act
    await store.put(big);

    // Assess
    expect(ssm.commandCalls(PutParameterCommand)[0]?.args[0].input.Tier).toBe('Advanced');
  });

  it('keeps the Advanced tier when SSM refuses to downgrade a parameter that shrank', async () => {
    // Prepare
    const downgrade = Object.assign(
      new Error(
        "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier.",
      ),
      { name: 'ValidationException' },
    );
    ssm.on(PutParameterCommand).rejectsOnce(downgrade).resolves({ Version: 2, Tier: 'Advanced' });
    const store = makeStore();

    // Act
    await store.put(storedDocument());

    // Assess
    const tiers = ssm.commandCalls(PutParameterCommand).map((call) => call.args[0].input.Tier);
    expect(tiers).toEqual(['Standard', 'Advanced']);
  });

  it('refuses an invalid document without calling SSM', async () => {
    // Prepare
    const store = makeStore();
    const invalid = { ...storedDocument(), clusterId: '../escape' };

    // Act
    const put = store.put(invalid);

    // Assess
    await expect(put).rejects.toMatchObject({ name: 'ValidationError' });
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });
});

describe('SsmConfigStore.get', () => {
  it('reads the parameter with decryption and returns the validated document', async () => {
    // Prepare
    const document = storedDocument();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(document) } });
    const store = makeStore();

    // Act
    const result = await store.get('prod-eu');

    // Assess
    expect(result).toEqual(document);
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({
      Name: `${PREFIX}/prod-eu/email-config`,
      WithDecryption: true,
    });
  });

  it('returns undefined when the parameter does not exist', async () => {
    // Prepare
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    const store = makeStore();

    // Act
    const result = await store.get('unconfigured');

    // Assess
    expect(result).toBeUndefined();
  });

  it('propagates other SSM errors', async () => {
    // Prepare
    ssm
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const store = makeStore();

    // Act
    const get = store.get('prod-eu');

    // Assess
    await expect(get).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('names the parameter and the field issues of a corrupt value, but never the secret', async () => {
    // Prepare: valid JSON, wrong shape, the secret sitting next to the broken field.
    const corrupt = storedDocument() as unknown as { config: { smtp: { port: unknown } } };
    corrupt.config.smtp.port = 'not-a-port';
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(corrupt) } });
    const store = makeStore();

    // Act
    const error = await store.get('prod-eu').catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(`${PREFIX}/prod-eu/email-config`);
    expect(message).toContain('config.smtp.port');
    expect(message).not.toContain(SECRET);
  });

  it('does not quote a value that is not JSON at all', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: `{"password":"${SECRET}"` } });
    const store = makeStore();

    // Act
    const error = await store.get('prod-eu').catch((e: unknown) => e);

    // Assess
    expect((error as Error).message).toContain(`${PREFIX}/prod-eu/email-config`);
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('rejects a cluster id that would change the parameter path', async () => {
    // Prepare
    const store = makeStore();

    // Act
    const get = store.get('a/../../other');

    // Assess
    await expect(get).rejects.toMatchObject({ name: 'ValidationError' });
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
  });
});

describe('SsmConfigStore.delete', () => {
  it('deletes the cluster parameter, answers false when there was none, and forgets the cached document', async () => {
    // Prepare
    ssm.on(PutParameterCommand).resolves({ Version: 1, Tier: 'Standard' });
    ssm
      .on(DeleteParameterCommand)
      .resolvesOnce({})
      .rejectsOnce(new ParameterNotFound({ $metadata: {}, message: 'not found' }));
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ $metadata: {}, message: 'not found' }));
    const store = makeStore({ cacheTtlMs: 60_000 });
    await store.put(storedDocument());

    // Act
    const first = await store.delete('prod-eu');
    const second = await store.delete('prod-eu');
    const read = await store.get('prod-eu');

    // Assess
    expect([first, second]).toEqual([true, false]);
    expect(ssm.commandCalls(DeleteParameterCommand)[0]?.args[0].input).toEqual({
      Name: `${PREFIX}/prod-eu/email-config`,
    });
    expect(read).toBeUndefined();
  });
});

describe('SsmConfigStore cache', () => {
  it('serves repeated reads from the cache until the TTL ends, then reads again', async () => {
    // Prepare
    const now = { value: 1_000_000 };
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(storedDocument()) } });
    const store = makeStore({ cacheTtlMs: 30_000, now });

    // Act
    await store.get('prod-eu');
    now.value += 29_999;
    await store.get('prod-eu');
    const insideTtl = ssm.commandCalls(GetParameterCommand).length;
    now.value += 1;
    await store.get('prod-eu');
    const afterTtl = ssm.commandCalls(GetParameterCommand).length;

    // Assess
    expect(insideTtl).toBe(1);
    expect(afterTtl).toBe(2);
  });

  it('caches absence too', async () => {
    // Prepare
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    const store = makeStore();

    // Act
    await store.get('unconfigured');
    const second = await store.get('unconfigured');

    // Assess
    expect(second).toBeUndefined();
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it('answers from its own write without reading SSM', async () => {
    // Prepare
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(storedDocument()) } });
    const store = makeStore();
    await store.get('prod-eu');
    const updated = { ...storedDocument(), updatedAt: '2025-02-03T04:05:06.000Z' };

    // Act
    await store.put(updated);
    const result = await store.get('prod-eu');

    // Assess
    expect(result).toEqual(updated);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it('does not let a read that was in flight during a write cache the old value', async () => {
    // Prepare: the read answers only after the write has landed.
    let answerRead: (value: { Parameter: { Value: string } }) => void = () => undefined;
    ssm.on(GetParameterCommand).callsFakeOnce(
      () =>
        new Promise((resolve) => {
          answerRead = resolve;
        }),
    );
    ssm.on(PutParameterCommand).resolves({ Version: 2 });
    const store = makeStore();
    const updated = { ...storedDocument(), updatedAt: '2025-02-03T04:05:06.000Z' };

    // Act
    const staleRead = store.get('prod-eu');
    await new Promise((resolve) => setImmediate(resolve));
    await store.put(updated);
    answerRead({ Parameter: { Value: JSON.stringify(storedDocument()) } });
    await staleRead;
    const afterwards = await store.get('prod-eu');

    // Assess
    expect(afterwards).toEqual(updated);
  });

  it('shares one request between concurrent reads of the same cluster', async () => {
    // Prepare
    ssm.on(GetParameterCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return { Parameter: { Value: JSON.stringify(storedDocument()) } };
    });
    const store = makeStore({ cacheTtlMs: 0 });

    // Act
    const results = await Promise.all([store.get('prod-eu'), store.get('prod-eu'), store.get('prod-eu')]);

    // Assess
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    expect(results).toEqual([storedDocument(), storedDocument(), storedDocument()]);
  });

  it('hands out frozen documents, so a caller cannot change what other callers read', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(storedDocument()) } });
    const store = makeStore();
    const first = await store.get('prod-eu');

    // Act
    expect(() => first?.config.adminContacts.push('intruder@example.com')).toThrow(TypeError);
    const second = await store.get('prod-eu');

    // Assess
    expect(second?.config.adminContacts).toEqual(['ops@example.com', 'oncall@example.com']);
  });
});

describe('SsmConfigStore.listClusterIds', () => {
  it('follows NextToken across pages and keeps only email-config parameters', async () => {
    // Prepare
    ssm
      .on(GetParametersByPathCommand)
      .resolvesOnce({
        Parameters: [{ Name: `${PREFIX}/alpha/email-config` }, { Name: `${PREFIX}/alpha/oauth-state` }],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        Parameters: [
          { Name: `${PREFIX}/beta/email-config` },
          { Name: `${PREFIX}/gamma/nested/email-config` },
        ],
        NextToken: 'page-3',
      })
      .resolvesOnce({ Parameters: [{ Name: `${PREFIX}/default/email-config` }] });
    const store = makeStore();

    // Act
    const ids = await store.listClusterIds();

    // Assess
    expect(ids).toEqual(['alpha', 'beta', 'default']);
    const inputs = ssm.commandCalls(GetParametersByPathCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(3);
    expect(inputs[0]).toMatchObject({ Path: PREFIX, Recursive: true, WithDecryption: false });
    expect(inputs[0]?.NextToken).toBeUndefined();
    expect(inputs[1]?.NextToken).toBe('page-2');
    expect(inputs[2]?.NextToken).toBe('page-3');
  });
});

describe('SsmConfigStore constructor', () => {
  it.each(['appliance-notifier/clusters', '/appliance-notifier/clusters/', ''])(
    'rejects the prefix %j with a clear message',
    (parameterPrefix) => {
      // Prepare
      const client = new SSMClient({ region: 'eu-west-1' });

      // Act
      const construct = () => new SsmConfigStore({ client, parameterPrefix });

      // Assess
      expect(construct).toThrow(/parameterPrefix must start with "\/" and not end with "\/"/);
    },
  );
});
