#!/usr/bin/env -S npx tsx
// CDK app entry: builds the one stack from context (see lib/stack-config.ts for every key).
// The environment is always explicit: `-c account=<id> -c region=<region>` (and the owner,
// cost-center and data-classification tags) for a real one; the CLI's defaults (the active
// profile's account, us-east-1 when no region is configured) are never used. `-c offline=true`
// synthesizes with a dummy account, region and tags, for a look at the template only.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { NotifierStack } from '../lib/notifier-stack.js';
import { OFFLINE_LOOKUPS, OFFLINE_PLACEHOLDERS, stackPropsFromContext } from '../lib/stack-config.js';

process.env.CDK_DISABLE_CLI_TELEMETRY ??= 'true';

const app = new App();
const config = (() => {
  try {
    return stackPropsFromContext((key) => app.node.tryGetContext(key));
  } catch (error) {
    // The message lists every context key to fix; a stack trace would only bury it.
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
})();
const { stackName, offline, ...props } = config;
if (offline) {
  console.warn(
    `Offline synth: dummy account ${OFFLINE_PLACEHOLDERS.account}, region ${OFFLINE_PLACEHOLDERS.region} and tags "${OFFLINE_PLACEHOLDERS.tag}". Not for deployment: give -c account=... -c region=... and the tags instead.`,
  );
  for (const [key, value] of Object.entries(OFFLINE_LOOKUPS)) app.node.setContext(key, value);
}
new NotifierStack(app, stackName, props);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
