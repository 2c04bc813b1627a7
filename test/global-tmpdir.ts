/**
 * Vitest global setup: every temporary file of a test run (bridge directories, keys, outboxes, child processes'
 * files) goes under one directory that is removed when the run ends, so test runs do not fill /tmp.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'alarm-bridge-tests-'));
  // Traversable like /tmp itself: a test runs a command as another user on its own (0700) directory below.
  chmodSync(root, 0o755);
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
