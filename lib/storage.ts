import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LEDGER_TABLE_KEYS } from '../functions/adapters/aws/resource-names.js';

export interface StorageProps {
  /** Where each cluster's configuration lives: `${parameterPrefix}/{clusterId}/email-config`. */
  readonly parameterPrefix: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The service's data at rest: one customer managed key (rotated yearly) that encrypts the
 * configuration parameters (SecureString), the delivery log table and the alarm topic, and the
 * delivery log table itself. The SSM parameters are created by the admin API on the first save,
 * not by the stack: they hold secrets that never belong in a template.
 */
export class Storage extends Construct {
  readonly key: kms.Key;
  readonly table: dynamodb.Table;
  readonly parameterPrefix: string;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    this.parameterPrefix = props.parameterPrefix;

    this.key = new kms.Key(this, 'DataKey', {
      description: 'appliance-notifier: email configuration (SSM SecureString), delivery log, alarm topic',
      enableKeyRotation: true,
      // Deleting the key makes the retained table and parameters unreadable: keep it unless the
      // whole deployment is meant to go.
      removalPolicy: props.removalPolicy,
      pendingWindow: Duration.days(30),
    });

    this.table = new dynamodb.Table(this, 'DeliveryLog', {
      partitionKey: { name: LEDGER_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LEDGER_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: LEDGER_TABLE_KEYS.ttlAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });
  }
}
