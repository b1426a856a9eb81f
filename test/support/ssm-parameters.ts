// No SSM emulator exists on npm: aws-sdk-client-mock answers the calls SsmConfigStore makes from
// a map, as SSM would (last write wins, ParameterNotFound, listing by path). No request leaves
// the process.
import {
  GetParameterCommand,
  GetParametersByPathCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/** Resets `ssm` and answers PutParameter, GetParameter and GetParametersByPath from a new map, which it returns. */
export function answerFromParameterMap(ssm: AwsClientStub<SSMClient>): Map<string, string> {
  const parameters = new Map<string, string>();
  ssm.reset();
  ssm.on(PutParameterCommand).callsFake(async (input: { Name: string; Value: string }) => {
    parameters.set(input.Name, input.Value);
    return { Version: 1, Tier: 'Standard' };
  });
  ssm.on(GetParameterCommand).callsFake(async (input: { Name: string }) => {
    const value = parameters.get(input.Name);
    if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
    return { Parameter: { Name: input.Name, Value: value } };
  });
  ssm.on(GetParametersByPathCommand).callsFake(async (input: { Path: string }) => ({
    Parameters: [...parameters.keys()]
      .filter((name) => name.startsWith(`${input.Path}/`))
      .map((Name) => ({ Name })),
  }));
  return parameters;
}

/** An SSM client with dummy credentials, for the mocked SSM. */
export function testSsmClient(region = 'eu-west-1'): SSMClient {
  return new SSMClient({ region, credentials: { accessKeyId: 'AKID', secretAccessKey: 'x' } });
}
