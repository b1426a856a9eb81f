// A local stand-in for SSM Parameter Store, for benches that run the built Lambda bundles in child
// processes (there is no SSM emulator on npm, and a mock in the parent cannot reach a child).
// It speaks the SSM JSON protocol (awsJson1_1: `POST /`, `X-Amz-Target: AmazonSSM.<Operation>`)
// for the two reads the functions make: GetParameter of one cluster's configuration and
// GetParametersByPath of the prefix (the daily notice's cluster list). Signatures are not checked;
// SecureString decryption is SSM's, server side, so the peer returns the value as stored.
// A child's SDK reaches it through `AWS_ENDPOINT_URL_SSM`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configParameterName } from '../functions/adapters/aws/resource-names.js';

export interface SsmPeerOptions {
  /** The functions' CONFIG_PARAMETER_PREFIX. */
  prefix: string;
  /** The parameter's value (the JSON of a StoredEmailConfig) for a cluster id, for any cluster. */
  valueFor: (clusterId: string) => string;
}

export interface SsmPeer {
  endpoint: string;
  /** The clusters GetParametersByPath lists (the ones "configured" right now). */
  listed: string[];
  /** Requests answered so far, by operation. */
  requests: Record<string, number>;
  close(): Promise<void>;
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': `ssm-peer-${Date.now()}`,
  });
  response.end(text);
}

const error = (response: ServerResponse, status: number, type: string, message: string) =>
  reply(response, status, { __type: type, message });

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function startSsmPeer(options: SsmPeerOptions): Promise<SsmPeer> {
  const head = `${options.prefix}/`;
  const parameter = (clusterId: string, withValue: boolean) => {
    const name = configParameterName(options.prefix, clusterId);
    return {
      Name: name,
      Type: 'SecureString',
      ...(withValue ? { Value: options.valueFor(clusterId) } : {}),
      Version: 1,
      LastModifiedDate: 1_764_547_200,
      ARN: `arn:aws:ssm:eu-central-1:111111111111:parameter${name}`,
      DataType: 'text',
    };
  };
  const peer: SsmPeer = {
    endpoint: '',
    listed: [],
    requests: {},
    close: async () => undefined,
  };

  const server = createServer((request, response) => {
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : '';
    readJson(request).then(
      (input) => {
        peer.requests[operation || '(none)'] = (peer.requests[operation || '(none)'] ?? 0) + 1;
        if (request.method !== 'POST' || !operation) {
          return error(response, 400, 'UnknownOperationException', `not an SSM request: ${target}`);
        }
        if (operation === 'GetParameter') {
          const name = String(input.Name ?? '');
          const match = name.startsWith(head)
            ? /^([^/]+)\/email-config$/.exec(name.slice(head.length))
            : null;
          if (!match?.[1]) return error(response, 400, 'ParameterNotFound', `Parameter ${name} not found.`);
          return reply(response, 200, { Parameter: parameter(match[1], input.WithDecryption === true) });
        }
        if (operation === 'GetParametersByPath') {
          const path = String(input.Path ?? '');
          const listed = path === options.prefix ? peer.listed : [];
          return reply(response, 200, {
            Parameters: listed.map((id) => parameter(id, input.WithDecryption === true)),
          });
        }
        return error(response, 400, 'UnsupportedOperation', `the SSM peer does not answer ${operation}`);
      },
      () => error(response, 400, 'SerializationException', 'the request body is not JSON'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  peer.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  peer.close = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return peer;
}
