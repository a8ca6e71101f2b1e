// Packs this repository and installs the tarball into a fresh folder as a consumer would, with
// no registry: npm runs with --offline and finds every tarball in its cache (where `npm ci`
// put them). A fresh resolution would need the registry's package metadata, which `npm ci`
// does not cache, so the consumer gets a lockfile holding our lockfile's production entries
// (the versions `npm install tramontane` resolves to today) plus the packed tarball.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export interface PackedFile {
  readonly path: string;
  readonly size: number;
}

export interface ConsumerInstall {
  /** The consumer folder (node_modules/tramontane inside). */
  readonly dir: string;
  /** Paths inside the tarball, relative to the package root. */
  readonly files: readonly PackedFile[];
  /** What `npm install` printed, stdout and stderr together. */
  readonly installOutput: string;
  readonly installStatus: number | null;
}

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  [key: string]: unknown;
}

function run(cmd: string, args: string[], cwd: string): { status: number | null; out: string; stdout: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/** `npm pack` without lifecycle scripts: the caller has built dist/ (npm test runs tsc first). */
function pack(dest: string): { filename: string; integrity: string; files: PackedFile[] } {
  const r = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], repoRoot);
  if (r.status !== 0) throw new Error(`npm pack failed:\n${r.out}`);
  const [info] = JSON.parse(r.stdout) as { filename: string; integrity: string; files: PackedFile[] }[];
  return info;
}

function consumerLock(tarball: string, integrity: string): object {
  const ours = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { tramontane: `file:${tarball}` } },
    'node_modules/tramontane': {
      version: ours.version,
      resolved: `file:${tarball}`,
      integrity,
      license: ours.license,
      dependencies: ours.dependencies,
      peerDependencies: ours.peerDependencies,
      peerDependenciesMeta: ours.peerDependenciesMeta,
      bin: ours.bin,
      engines: ours.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.startsWith('node_modules/') && !entry.dev && !entry.devOptional) packages[path] = entry;
  }
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages };
}

/** Packs, then installs the tarball offline into a new temp folder. */
export function installPackedTarball(): ConsumerInstall {
  const dir = mkdtempSync(join(tmpdir(), 'tramontane-consumer-'));
  const packed = pack(dir);
  const tarball = packed.filename;
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { tramontane: `file:${tarball}` } }, null, 2),
  );
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(consumerLock(tarball, packed.integrity), null, 2));
  const install = run('npm', ['install', '--offline', '--no-audit', '--no-fund'], dir);
  return { dir, files: packed.files, installOutput: install.out, installStatus: install.status };
}

/** Runs `node <script>` in the consumer folder (the script copied or written there first). */
export function runInConsumer(dir: string, args: string[]): { status: number | null; out: string; stdout: string } {
  return run(process.execPath, args, dir);
}
