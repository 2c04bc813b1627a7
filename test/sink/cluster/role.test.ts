import { describe, expect, it } from 'vitest';
import { ClusterRole, type Role } from '../../../src/sink/cluster/role.js';

describe('ClusterRole', () => {
  it('starts as standby and tells listeners of each change, once', () => {
    const role = new ClusterRole();
    const seen: Role[] = [];
    role.onChange((r) => seen.push(r));
    expect(role.current).toBe('standby');
    role.set('delivering');
    role.set('delivering');
    role.set('standby');
    expect(seen).toEqual(['delivering', 'standby']);
    expect(role.delivering).toBe(false);
  });
});
