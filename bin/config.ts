// `npm run config`: back up and restore every cluster's configuration (and OAuth2 grant).
//   AWS:      npm run config -- export [--cluster <id>] [--out <file>] [--prefix /appliance-notifier/clusters] [--table <DeliveryLogTableName>]
//             npm run config -- import --file <file> [--dry-run] [--prefix ...] [--table ...]
//   locally:  npm run config -- export --local [--cluster <id>] [--out <file>]   (DATA_DIR, default ./.data)
//             npm run config -- import --local --file <file> [--dry-run]
// AWS needs AWS_REGION (no default region: the data stays where it was put) and credentials of
// the usual chain. The OAuth2 grants live in the stack's table: without --table they are
// neither exported nor imported (an import that has grants then refuses those clusters).
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_PARAMETER_PREFIX } from '../functions/adapters/aws/resource-names.js';
import { parseEnv } from '../functions/shared/env.js';
import { type BackupTarget, exportConfigs, importConfigs, SECRETS_WARNING } from '../ops/config-backup.js';
import { LocalTargetEnvSchema } from '../ops/local-target.js';

const USAGE = `usage: npm run config -- export [--cluster <id>] [--out <file>] [--prefix <ssm path>] [--table <name>] [--local]
       npm run config -- import --file <file> [--dry-run] [--prefix <ssm path>] [--table <name>] [--local]`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cluster: { type: 'string' },
    out: { type: 'string' },
    file: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    prefix: { type: 'string' },
    table: { type: 'string' },
    local: { type: 'boolean', default: false },
  },
});

const command = positionals[0];
if ((command !== 'export' && command !== 'import') || positionals.length > 1) {
  console.error(USAGE);
  process.exit(2);
}
if (command === 'import' && !values.file) {
  console.error(`npm run config -- import needs --file <file>\n${USAGE}`);
  process.exit(2);
}

const { target, close } = values.local ? await localTarget() : await awsTarget();
try {
  if (command === 'export') {
    const backup = await exportConfigs(target, values.cluster ? { clusterId: values.cluster } : {});
    const text = `${JSON.stringify(backup, null, 2)}\n`;
    console.error(SECRETS_WARNING);
    if (values.out) {
      const file = resolve(values.out);
      await writeFile(file, text, { mode: 0o600 });
      // The mode applies when the file is created; an existing file gets it here.
      await chmod(file, 0o600);
      console.error(
        `${backup.clusters.length} cluster(s) from ${target.description} written to ${file} (mode 0600)`,
      );
    } else {
      process.stdout.write(text);
      console.error(`${backup.clusters.length} cluster(s) from ${target.description}`);
    }
  } else {
    const summary = await importConfigs(target, await readFile(resolve(values.file as string), 'utf8'), {
      dryRun: values['dry-run'],
    });
    for (const result of summary.results) {
      console.log(`${result.clusterId}: ${result.action}${result.detail ? ` (${result.detail})` : ''}`);
    }
    const failed = summary.results.filter((r) => r.action === 'invalid' || r.action === 'failed').length;
    console.log(
      `${summary.results.length - failed} of ${summary.results.length} cluster(s) ${values['dry-run'] ? 'valid (dry run: nothing written)' : `imported into ${target.description}`}${failed ? `, ${failed} not` : ''}`,
    );
    if (!summary.ok) process.exitCode = 1;
  }
} catch (error) {
  console.error(`npm run config -- ${command}: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await close();
}

async function localTarget(): Promise<{ target: BackupTarget; close: () => Promise<void> }> {
  const env = parseEnv(LocalTargetEnvSchema, process.env, 'npm run config');
  const [{ SqliteDatabase }, { SqliteConfigStore }, { SqliteGrantStore }] = await Promise.all([
    import('../functions/adapters/local/sqlite-database.js'),
    import('../functions/adapters/local/sqlite-config-store.js'),
    import('../functions/adapters/local/sqlite-grant-store.js'),
  ]);
  const directory = resolve(env.DATA_DIR);
  // The stores' writes are single transactions: safe while a runtime uses the same directory.
  const database = await SqliteDatabase.open({ directory });
  return {
    target: {
      store: new SqliteConfigStore(database),
      grants: new SqliteGrantStore(database),
      description: `local:${directory}`,
    },
    close: async () => database.close(),
  };
}

async function awsTarget(): Promise<{ target: BackupTarget; close: () => Promise<void> }> {
  if (!process.env.AWS_REGION) {
    console.error('npm run config: set AWS_REGION to the region of the stack (there is no default region)');
    process.exit(2);
  }
  const [{ SSMClient }, { SsmConfigStore }] = await Promise.all([
    import('@aws-sdk/client-ssm'),
    import('../functions/adapters/aws/ssm-config-store.js'),
  ]);
  const prefix = values.prefix ?? DEFAULT_CONFIG_PARAMETER_PREFIX;
  const ssm = new SSMClient({ region: process.env.AWS_REGION });
  let grants: BackupTarget['grants'];
  let closeDynamo: () => void = () => undefined;
  if (values.table) {
    const [{ DynamoDBClient }, { DynamoDbGrantStore }] = await Promise.all([
      import('@aws-sdk/client-dynamodb'),
      import('../functions/adapters/aws/dynamodb-grant-store.js'),
    ]);
    const client = new DynamoDBClient({ region: process.env.AWS_REGION });
    grants = new DynamoDbGrantStore({ client, tableName: values.table });
    closeDynamo = () => client.destroy();
  } else {
    console.error(
      'No --table given: OAuth2 grants are not part of this run (pass the stack output DeliveryLogTableName)',
    );
  }
  return {
    target: {
      // No cache: a backup reads what is stored now.
      store: new SsmConfigStore({ client: ssm, parameterPrefix: prefix, cacheTtlMs: 0 }),
      ...(grants ? { grants } : {}),
      description: `ssm:${prefix} in ${process.env.AWS_REGION}${values.table ? ` and table ${values.table}` : ''}`,
    },
    close: async () => {
      ssm.destroy();
      closeDynamo();
    },
  };
}
