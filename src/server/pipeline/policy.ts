/** The reply policy and key lookup a configuration implies (used by the receiver and by `map`). */
import { accountKeyCandidates } from '../../config/load.js';
import type { BridgeConfig } from '../../config/types.js';
import type { AccountSettings, ReplyPolicy } from '../../protocols/dc09/index.js';

export interface AccountDirectory {
  policy: ReplyPolicy;
  /** AES keys for an upper-cased account, for the frame parser. */
  keysFor(account: string): readonly Uint8Array[] | null;
}

/**
 * Builds the account lookups once per configuration (they sit on the per-frame path).
 * `extraKey` (the `--key` option of `decode`/`map`) applies to every account without a configured key,
 * for decryption only: it does not make encryption mandatory.
 */
export function accountDirectory(config: Pick<BridgeConfig, 'accounts' | 'receiver'>, extraKey: Buffer | null = null): AccountDirectory {
  const settings = new Map<string, AccountSettings>();
  for (const [account, cfg] of Object.entries(config.accounts)) {
    settings.set(account.toUpperCase(), {
      keys: accountKeyCandidates(cfg),
      timestampWindow: cfg.timestampWindow ?? config.receiver.timestampWindow,
    });
  }
  const extra = extraKey ? [extraKey] : null;
  return {
    policy: {
      account: (account) => settings.get(account) ?? null,
      unknownAccounts: config.receiver.unknownAccounts,
      badCrc: config.receiver.badCrc,
      clearTimestamps: config.receiver.clearTimestamps,
      defaultWindow: config.receiver.timestampWindow,
    },
    keysFor: (account) => {
      const own = settings.get(account)?.keys;
      return own && own.length > 0 ? own : extra;
    },
  };
}
