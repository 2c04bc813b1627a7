/**
 * This instance's part in delivery (docs/cluster.md §5): `delivering` while it holds the lease, else `standby`.
 * The lease sets it; readiness, metrics and supervision read it or follow its changes.
 */
export type Role = 'delivering' | 'standby';

export class ClusterRole {
  private role: Role = 'standby';
  private readonly listeners: Array<(role: Role) => void> = [];

  get current(): Role {
    return this.role;
  }

  get delivering(): boolean {
    return this.role === 'delivering';
  }

  /** Calls `listener` on every change from now on. */
  onChange(listener: (role: Role) => void): void {
    this.listeners.push(listener);
  }

  set(role: Role): void {
    if (role === this.role) return;
    this.role = role;
    for (const listener of this.listeners) listener(role);
  }
}
