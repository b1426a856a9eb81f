// The IAM statements of each capability a function composes. Every statement names its resources;
// the wildcards are path suffixes (all clusters' parameters), never `*` on a whole service.
import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { DYNAMODB_LEDGER_ACTIONS } from '../functions/adapters/aws/resource-names.js';

export interface ConfigAccess {
  /** Read one cluster's configuration (GetParameter with decryption). */
  readonly read: boolean;
  /** Save a configuration (PutParameter with encryption): the admin API only. */
  readonly write: boolean;
  /** List every cluster's configuration (GetParametersByPath, recursive). */
  readonly list: boolean;
  /** Delete a configuration (DeleteParameter): the admin API only. */
  readonly delete?: boolean;
}

/** ARNs of the configuration parameters: `parameter/<prefix>/*` and the path itself. */
export function parameterArns(scope: Construct, parameterPrefix: string): { path: string; children: string } {
  const stack = Stack.of(scope);
  const path = parameterPrefix.replace(/^\//, '');
  return {
    path: stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: path }),
    children: stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${path}/*` }),
  };
}

export function configStatements(
  scope: Construct,
  parameterPrefix: string,
  key: kms.IKey,
  access: ConfigAccess,
): iam.PolicyStatement[] {
  const arns = parameterArns(scope, parameterPrefix);
  const region = Stack.of(scope).region;
  const statements: iam.PolicyStatement[] = [];
  const parameterActions = [
    ...(access.read ? ['ssm:GetParameter'] : []),
    ...(access.write ? ['ssm:PutParameter'] : []),
    ...(access.delete ? ['ssm:DeleteParameter'] : []),
  ];
  if (parameterActions.length > 0) {
    statements.push(new iam.PolicyStatement({ actions: parameterActions, resources: [arns.children] }));
  }
  if (access.list) {
    // IAM evaluates GetParametersByPath against the path; recursion covers what lies below it.
    statements.push(
      new iam.PolicyStatement({
        actions: ['ssm:GetParametersByPath'],
        resources: [arns.path, arns.children],
      }),
    );
  }
  const kmsActions = [
    ...(access.read || access.list ? ['kms:Decrypt'] : []),
    // Standard-tier SecureStrings are encrypted with Encrypt, advanced-tier (over 4 KB) with a
    // data key from GenerateDataKey; the adapter picks the tier by size.
    ...(access.write ? ['kms:Encrypt', 'kms:GenerateDataKey'] : []),
  ];
  if (kmsActions.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        actions: kmsActions,
        resources: [key.keyArn],
        // Only through SSM, and only for this service's parameters: SSM passes the parameter ARN
        // as encryption context.
        conditions: {
          StringEquals: { 'kms:ViaService': `ssm.${region}.amazonaws.com` },
          StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': arns.children },
        },
      }),
    );
  }
  return statements;
}

export function ledgerStatements(
  scope: Construct,
  table: dynamodb.ITable,
  key: kms.IKey,
): iam.PolicyStatement[] {
  const region = Stack.of(scope).region;
  return [
    new iam.PolicyStatement({ actions: [...DYNAMODB_LEDGER_ACTIONS], resources: [table.tableArn] }),
    new iam.PolicyStatement({
      // DynamoDB decrypts and encrypts the table key on the caller's behalf.
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
    }),
  ];
}

export interface SesSending {
  /** The verified identity (domain or address) the configured senders belong to. */
  readonly identity: string;
  readonly configurationSet?: string;
}

/** `ses:SendRawEmail` on the one identity (and configuration set), never on `*`. */
export function sesStatements(scope: Construct, ses: SesSending): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const resources = [stack.formatArn({ service: 'ses', resource: 'identity', resourceName: ses.identity })];
  if (ses.configurationSet) {
    resources.push(
      stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: ses.configurationSet }),
    );
  }
  return [new iam.PolicyStatement({ actions: ['ses:SendRawEmail'], resources })];
}
