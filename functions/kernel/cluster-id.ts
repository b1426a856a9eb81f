import { z } from 'zod';

// The cluster id names a configuration, an SSM parameter and an EventBridge detail field, so
// one rule serves the API, the events and the admin page (which imports the pattern, not zod).
export const CLUSTER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const CLUSTER_ID_MESSAGE =
  'must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit';

export const ClusterIdSchema = z.string().regex(CLUSTER_ID_PATTERN, CLUSTER_ID_MESSAGE);

export const DEFAULT_CLUSTER_ID = 'default';
