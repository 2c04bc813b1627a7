/**
 * Where a program from a Debian package the tests start lives (sbin is often not on a user's PATH). A missing one
 * fails the test with the command that installs it: no test skips for want of a server.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function debianBinary(command: string, pkg = command): string {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
    if (existsSync(`${dir}/${command}`)) return `${dir}/${command}`;
  }
  const which = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim() !== '') return which.stdout.trim();
  throw new Error(`${command} is not installed: run 'apt-get install -y ${pkg}' (npm test's pretest does it as root)`);
}
