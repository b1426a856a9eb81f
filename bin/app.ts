#!/usr/bin/env -S npx tsx
// CDK app entry: builds the one stack from context (see lib/stack-config.ts for every key).
// Synthesizes offline: without credentials, a placeholder account and region stand in, which is
// enough for `cdk synth` and the tests; `cdk deploy` passes the real ones.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { NotifierStack } from '../lib/notifier-stack.js';
import { stackPropsFromContext } from '../lib/stack-config.js';

process.env.CDK_DISABLE_CLI_TELEMETRY ??= 'true';
const account = process.env.CDK_DEFAULT_ACCOUNT ?? '111111111111';
const region = process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION ?? 'eu-central-1';

const app = new App();
const { stackName, ...props } = stackPropsFromContext((key) => app.node.tryGetContext(key));
new NotifierStack(app, stackName, { ...props, env: { account, region } });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
