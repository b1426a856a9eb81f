import * as z from 'zod';
import { CLUSTER_ID_MESSAGE, CLUSTER_ID_PATTERN } from './cluster-id.js';
import { ValidationError } from './field-issues.js';

export const ClusterIdSchema = z.string().regex(CLUSTER_ID_PATTERN, CLUSTER_ID_MESSAGE);

/** The cluster id, checked; a ValidationError on the field `clusterId` if it is not one. */
export function checkedClusterId(clusterId: string): string {
  const checked = ClusterIdSchema.safeParse(clusterId);
  if (!checked.success) throw ValidationError.fromZod(checked.error, 'Invalid cluster id', ['clusterId']);
  return checked.data;
}
