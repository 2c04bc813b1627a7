/** `/readyz`: listeners bound, outbox writable and accepting, last delivery and token exchange not failing. */
import { access, constants } from 'node:fs/promises';
import type { BridgeConfig } from '../../config/types.js';
import type { Readiness, ReadinessCheck } from '../ops/http-status.js';
import type { DeliveryHealth, RunningBridge } from './bridge.js';

/** The check of the last delivery: failing while the last outcome was a retry or a refusal. */
export function deliveryCheck(last: NonNullable<DeliveryHealth['lastDelivery']>): ReadinessCheck {
  const { outcome } = last;
  const ok = outcome.kind === 'accepted' || outcome.kind === 'discarded';
  return { ok, detail: `${ok ? outcome.kind : `${outcome.kind}: ${outcome.reason}`} at ${new Date(last.atMs).toISOString()}` };
}

export async function readiness(config: BridgeConfig, bridge: RunningBridge): Promise<Readiness> {
  const checks: Record<string, ReadinessCheck> = { listeners: { ok: bridge.listeners.length > 0, detail: `${bridge.listeners.length} bound` } };
  if (config.outbox && bridge.outbox) {
    const state = bridge.outbox.status().state;
    const writable = await access(config.outbox.dir, constants.W_OK).then(() => null, (e: unknown) => String(e));
    checks.outbox = { ok: writable === null && state === 'running', detail: writable ?? `state ${state}` };
  }
  const { lastDelivery, lastToken } = bridge.health;
  if (lastDelivery) checks.delivery = deliveryCheck(lastDelivery);
  if (lastToken) checks.token = { ok: lastToken.ok, detail: `${lastToken.ok ? 'obtained' : 'failed'} at ${lastToken.at}` };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}
