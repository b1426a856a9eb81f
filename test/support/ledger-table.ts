// The ledger table as the CDK stack creates it (LEDGER_TABLE_KEYS), on a DynamoDB emulator:
// for the tests' dynalite and the bench's.
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LEDGER_TABLE_KEYS } from '../../functions/adapters/aws/resource-names.js';

/** Creates the table and resolves once it is ACTIVE (dynalite flips the status on a timer). */
export async function createLedgerTable(client: DynamoDBClient, name: string): Promise<string> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: LEDGER_TABLE_KEYS.partitionKey, AttributeType: 'S' },
        { AttributeName: LEDGER_TABLE_KEYS.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: LEDGER_TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: LEDGER_TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
  for (let attempt = 0; attempt < 200; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return name;
    await new Promise((resolve) => setTimeout(resolve, attempt < 100 ? 0 : 5));
  }
  throw new Error(`dynalite table ${name} did not become ACTIVE`);
}
