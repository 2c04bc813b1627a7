/** What the rest of the bridge sees of the cluster (docs/cluster.md §1): the connection, the stores, this instance's settings. */
import type { ClusterConfig } from '../../config/types.js';
import type { ClusterConnection } from './connection.js';
import type { ClusterRole } from './role.js';
import type { ClusterStores } from './streams.js';

export interface ClusterRuntime {
  readonly config: ClusterConfig;
  readonly connection: ClusterConnection;
  readonly stores: ClusterStores;
  /** Delivering (holds the lease) or standby. */
  readonly role: ClusterRole;
}
