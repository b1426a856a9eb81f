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
import { z } from 'zod';
import { DEFAULT_CONFIG_PARAMETER_PREFIX } from '../functions/adapters/aws/resource-names.js';
import {
  CliError,
  type CommandSpec,
  EXIT,
  parseCliEnv,
  parseCommandLine,
  runCli,
  UsageError,
} from '../ops/cli.js';
import { type BackupTarget, exportConfigs, importConfigs, SECRETS_WARNING } from '../ops/config-backup.js';
import { LocalTargetEnvSchema } from '../ops/local-target.js';

/** The region of the stack: always given, never a default (data residency). */
const AwsRegionEnvSchema = z.object({ AWS_REGION: z.string().optional() });

const SPEC: CommandSpec = {
  command: 'npm run config',
  summary: "back up and restore every cluster's configuration (and OAuth2 grant), in AWS or locally",
  usage: [
    'export [--cluster <id>] [--out <file>] [--prefix <ssm path>] [--table <name>] [--local]',
    'import --file <file> [--dry-run] [--prefix <ssm path>] [--table <name>] [--local]',
  ],
  positionals: [
    ['export', 'write the configurations as JSON (stdout, or --out); it contains secrets'],
    ['import', 'write the configurations of a backup (--file) into the stores'],
  ],
  options: {
    cluster: { type: 'string', value: 'id', description: 'export: only this cluster.' },
    out: {
      type: 'string',
      value: 'file',
      description: 'export: write to this file (mode 0600) instead of stdout.',
    },
    file: { type: 'string', value: 'file', description: 'import: the backup to read.' },
    'dry-run': { type: 'boolean', default: false, description: 'import: validate only, write nothing.' },
    prefix: {
      type: 'string',
      value: 'ssm path',
      default: DEFAULT_CONFIG_PARAMETER_PREFIX,
      description: 'AWS: the SSM parameter path of the configurations.',
    },
    table: {
      type: 'string',
      value: 'name',
      description:
        'AWS: the stack table (DeliveryLogTableName) that holds the OAuth2 grants; without it grants are left out.',
    },
    local: {
      type: 'boolean',
      default: false,
      description: "The embedded runtime's data directory (DATA_DIR) instead of AWS.",
    },
  },
  environment: [
    ['AWS_REGION', 'AWS: the region of the stack (required: there is no default region)'],
    ['DATA_DIR', 'with --local: the data directory (default ./.data)'],
    ['SECRETS_KEY', "with --local: the runtime's secrets key, if it has one (else DATA_DIR/secrets.key)"],
  ],
  examples: [
    'AWS_REGION=eu-central-1 npm run config -- export --table <DeliveryLogTableName> --out backup.json',
    'AWS_REGION=eu-central-1 npm run config -- import --file backup.json --table <table> --dry-run',
    'npm run config -- export --local --out backup.json',
    'npm run config -- import --local --file backup.json',
  ],
  exitCodes: [
    [EXIT.ok, 'exported, or every cluster imported (or valid, with --dry-run)'],
    [EXIT.failed, 'a cluster could not be imported, or a store refused'],
    [EXIT.usage, 'a wrong command line or environment (no AWS_REGION)'],
  ],
};

type Values = {
  cluster?: string;
  out?: string;
  file?: string;
  'dry-run': boolean;
  prefix: string;
  table?: string;
  local: boolean;
};

await runCli(SPEC, async () => {
  const { values, positionals } = parseCommandLine<Values>(SPEC);
  const [command, ...extra] = positionals;
  if (command !== 'export' && command !== 'import') {
    throw new UsageError(command ? `unknown command "${command}": export or import` : 'export or import?');
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  if (command === 'import' && !values.file) throw new UsageError('import needs --file <file>');

  const { target, close } = values.local ? await localTarget() : await awsTarget(values);
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
      return EXIT.ok;
    }
    const file = resolve(values.file as string);
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CliError(
        `cannot read ${file} (${error.code ?? error.message}): give --file an existing backup`,
      );
    });
    const summary = await importConfigs(target, text, { dryRun: values['dry-run'] });
    for (const result of summary.results) {
      console.log(`${result.clusterId}: ${result.action}${result.detail ? ` (${result.detail})` : ''}`);
    }
    const failed = summary.results.filter((r) => r.action === 'invalid' || r.action === 'failed').length;
    console.log(
      `${summary.results.length - failed} of ${summary.results.length} cluster(s) ${values['dry-run'] ? 'valid (dry run: nothing written)' : `imported into ${target.description}`}${failed ? `, ${failed} not` : ''}`,
    );
    return summary.ok ? EXIT.ok : EXIT.failed;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${command}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await close();
  }
});

async function localTarget(): Promise<{ target: BackupTarget; close: () => Promise<void> }> {
  const env = parseCliEnv(LocalTargetEnvSchema);
  const [{ SqliteDatabase }, { SqliteConfigStore }, { SqliteGrantStore }] = await Promise.all([
    import('../functions/adapters/local/sqlite-database.js'),
    import('../functions/adapters/local/sqlite-config-store.js'),
    import('../functions/adapters/local/sqlite-grant-store.js'),
  ]);
  const directory = resolve(env.DATA_DIR);
  // The stores' writes are single transactions: safe while a runtime uses the same directory.
  const { secretKeySettingsOf } = await import('../functions/adapters/local/secret-box.js');
  const database = await SqliteDatabase.open({ directory, secrets: secretKeySettingsOf(env) });
  return {
    target: {
      store: new SqliteConfigStore(database),
      grants: new SqliteGrantStore(database),
      description: `local:${directory}`,
    },
    close: async () => database.close(),
  };
}

async function awsTarget(values: Values): Promise<{ target: BackupTarget; close: () => Promise<void> }> {
  const region = parseCliEnv(AwsRegionEnvSchema).AWS_REGION;
  if (!region) {
    throw new UsageError(
      'set AWS_REGION to the region of the stack (there is no default region), or use --local',
    );
  }
  const [{ SSMClient }, { SsmConfigStore }] = await Promise.all([
    import('@aws-sdk/client-ssm'),
    import('../functions/adapters/aws/ssm-config-store.js'),
  ]);
  const prefix = values.prefix;
  const ssm = new SSMClient({ region });
  let grants: BackupTarget['grants'];
  let closeDynamo: () => void = () => undefined;
  if (values.table) {
    const [{ DynamoDBClient }, { DynamoDbGrantStore }] = await Promise.all([
      import('@aws-sdk/client-dynamodb'),
      import('../functions/adapters/aws/dynamodb-grant-store.js'),
    ]);
    const client = new DynamoDBClient({ region });
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
      description: `ssm:${prefix} in ${region}${values.table ? ` and table ${values.table}` : ''}`,
    },
    close: async () => {
      ssm.destroy();
      closeDynamo();
    },
  };
}
