// The user pool groups that bind admins to clusters: the admin API reads them from the JWT and
// lib/ creates the fleet admin group. No runtime imports, so lib/ reads them at synth time.

/** The group whose members administer every cluster, unless the deployment names another (`-c fleetAdminGroup=`). */
export const DEFAULT_FLEET_ADMIN_GROUP = 'fleet-admins';

/** A group `cluster-<clusterId>` lets its members administer that cluster. */
export const CLUSTER_GROUP_PREFIX = 'cluster-';
