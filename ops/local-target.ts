import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { SecretsKeyEnvShape } from '../functions/adapters/local/secret-box.js';
import { CliError, type CliOption, parseCliEnv } from './cli.js';

/** What the command-line tools read from the environment to reach the embedded runtime. */
export const LocalTargetEnvSchema = z.object({
  APPLIANCE_NOTIFIER_URL: z.url().default('http://127.0.0.1:3000'),
  ADMIN_TOKEN: z.string().min(16).optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  ...SecretsKeyEnvShape,
});

export interface LocalTarget {
  url: string;
  token: string;
}

/**
 * The runtime's address and admin token: flags first, then the environment, then the token
 * file the runtime wrote into its data directory.
 */
export function localTarget(flags: { url?: string | undefined; token?: string | undefined }): LocalTarget {
  const env = parseCliEnv(LocalTargetEnvSchema);
  const url = (flags.url ?? env.APPLIANCE_NOTIFIER_URL).replace(/\/$/, '');
  if (flags.token ?? env.ADMIN_TOKEN) return { url, token: (flags.token ?? env.ADMIN_TOKEN) as string };
  const file = resolve(env.DATA_DIR, 'admin-token');
  try {
    return { url, token: readFileSync(file, 'utf8').trim() };
  } catch {
    throw new CliError(
      `no admin token: pass --token, set ADMIN_TOKEN, or start the runtime once (it writes ${file})`,
    );
  }
}

/**
 * The `--url` and `--token` options and the environment rows of a command that reaches the
 * embedded runtime (`when`: the flag they go with, e.g. `--local`, if not always).
 */
export function localTargetHelp(when?: string): {
  options: { url: CliOption; token: CliOption };
  environment: [name: string, description: string][];
} {
  const lead = (text: string) =>
    when ? `With ${when}: ${text}` : text.charAt(0).toUpperCase() + text.slice(1);
  const suffix = when ? ` (with ${when})` : '';
  return {
    options: {
      url: {
        type: 'string',
        value: 'url',
        description: lead(
          'the embedded runtime (default APPLIANCE_NOTIFIER_URL, else http://127.0.0.1:3000).',
        ),
      },
      token: {
        type: 'string',
        value: 't',
        description: lead("the runtime's admin token (default ADMIN_TOKEN, else DATA_DIR/admin-token)."),
      },
    },
    environment: [
      [
        'APPLIANCE_NOTIFIER_URL',
        `where the embedded runtime listens (default http://127.0.0.1:3000)${suffix}`,
      ],
      ['ADMIN_TOKEN', `the runtime's admin token${suffix}`],
      ['DATA_DIR', "the runtime's data directory, for its admin-token file (default ./.data)"],
    ],
  };
}
