import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A small tmpfs volume mounted at `path` when this process may mount one (root on Linux), else
 * undefined (the caller's test then checks nothing, and says so). Returns the unmount.
 */
export function smallVolume(path: string, size: string): (() => void) | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  mkdirSync(path, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], { stdio: 'ignore' });
  } catch {
    rmdirSync(path);
    return undefined;
  }
  return () => {
    execFileSync('umount', ['-l', path], { stdio: 'ignore' });
    rmdirSync(path);
  };
}

/** Fills the volume of `dir` to its last few hundred bytes with files named `<prefix>-<n>`; returns how many. */
export function fillVolume(dir: string, prefix = 'ballast'): number {
  let chunk = 1024 * 1024;
  let n = 0;
  while (chunk >= 512) {
    try {
      writeFileSync(join(dir, `${prefix}-${n}`), Buffer.alloc(chunk));
      n += 1;
    } catch {
      chunk = Math.floor(chunk / 2);
    }
  }
  return n;
}
