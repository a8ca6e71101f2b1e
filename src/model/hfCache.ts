// `--model org/name` as vLLM and transformers read it: a snapshot in the local Hugging Face hub
// cache. The cache directory is $HF_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub; a repository lives in
// models--org--name/, its revisions in snapshots/<commit>/, and refs/main names the commit of
// the main branch. Nothing here touches the network.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError } from './checkpointError.js';

/** owner/name as the Hub spells repository ids. */
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

export function looksLikeRepoId(model: string): boolean {
  return REPO_ID.test(model) && !model.includes('..') && !model.endsWith('.');
}

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'huggingface', 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/**
 * The snapshot directory of `repoId` in the local cache: the commit refs/main names (or
 * `revision`, a branch in refs/ or a commit hash), else the only snapshot there is. Throws a
 * CheckpointError that says where it looked and how to download the model.
 */
export function resolveHubModel(repoId: string, options: { env?: NodeJS.ProcessEnv; revision?: string } = {}): string {
  if (!looksLikeRepoId(repoId)) throw new CheckpointError(`${JSON.stringify(repoId)} is not a Hugging Face repository id (owner/name)`);
  const cache = hubCacheDir(options.env);
  const repoDir = join(cache, `models--${repoId.replace('/', '--')}`);
  const revision = options.revision ?? 'main';
  const download = `download it with \`hf download ${repoId}\` (or \`huggingface-cli download ${repoId}\`), or pass the model's directory`;
  if (!isDir(repoDir)) {
    throw new CheckpointError(`model ${repoId} is neither a directory nor in the Hugging Face cache: looked for ${repoDir} (cache ${cache}, from ${cacheSource(options.env)}); ${download}`);
  }
  const snapshots = join(repoDir, 'snapshots');
  const refPath = join(repoDir, 'refs', revision);
  let commit: string | null = null;
  if (existsSync(refPath)) commit = readFileSync(refPath, 'utf8').trim();
  else if (/^[0-9a-f]{40}$/.test(revision)) commit = revision;
  if (commit !== null) {
    if (!/^[0-9a-f]{40}$/.test(commit)) throw new CheckpointError(`${refPath} holds ${JSON.stringify(commit.slice(0, 80))}, not a commit hash`);
    const dir = join(snapshots, commit);
    if (!isDir(dir)) throw new CheckpointError(`model ${repoId}: ${refPath} names commit ${commit} but ${dir} does not exist (an interrupted download?); ${download}`);
    return dir;
  }
  const all = isDir(snapshots) ? readdirSync(snapshots).filter((s) => isDir(join(snapshots, s))) : [];
  if (all.length === 1 && options.revision === undefined) return join(snapshots, all[0]);
  throw new CheckpointError(
    all.length === 0
      ? `model ${repoId} is in the Hugging Face cache (${repoDir}) but has no snapshot; ${download}`
      : `model ${repoId}: ${refPath} does not exist and ${snapshots} holds ${all.length} snapshots (${all.slice(0, 4).join(', ')}${all.length > 4 ? ', ...' : ''}); pass one of them as --model`,
  );
}

function cacheSource(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return '$HF_HUB_CACHE';
  if (env.HF_HOME) return '$HF_HOME';
  if (env.XDG_CACHE_HOME) return '$XDG_CACHE_HOME';
  return 'the default; set HF_HOME or HF_HUB_CACHE to look elsewhere';
}
