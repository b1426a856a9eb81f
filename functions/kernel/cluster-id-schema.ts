import * as z from 'zod';
import { CLUSTER_ID_MESSAGE, CLUSTER_ID_PATTERN } from './cluster-id.js';

export const ClusterIdSchema = z.string().regex(CLUSTER_ID_PATTERN, CLUSTER_ID_MESSAGE);
