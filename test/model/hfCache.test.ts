// --model org/name resolves in a Hugging Face hub cache laid out in a temporary directory
// (never the network): refs/main, a given revision, the only snapshot, HF_HUB_CACHE over
// HF_HOME, and errors that say where they looked and how to download.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from '../../src/model/checkpointError.js';
import { hubCacheDir, looksLikeRepoId, resolveHubModel } from '../../src/model/hfCache.js';
import { openModelSource } from '../../src/model/modelSource.js';
import { fixture } from '../helpers/paths.js';
import { tempDir } from '../helpers/safetensors.js';

const REPO = 'mistralai/Mistral-Small-3.1-24B-Instruct-2503';
const MAIN = 'a'.repeat(40);
const OLD = 'b'.repeat(40);

/** hub/models--mistralai--.../{refs/main, snapshots/<MAIN>, snapshots/<OLD>}: tiny-b's HF files as symlinks. */
async function fakeHub(hub: string, withRef = true): Promise<string> {
  const repo = join(hub, `models--${REPO.replace('/', '--')}`);
  const src = fixture('models', 'tiny-b', 'hf');
  for (const rev of withRef ? [MAIN, OLD] : [MAIN]) {
    const snap = join(repo, 'snapshots', rev);
    await mkdir(snap, { recursive: true });
    for (const f of await readdir(src)) await symlink(join(src, f), join(snap, f));
  }
  if (withRef) {
    await mkdir(join(repo, 'refs'), { recursive: true });
    await writeFile(join(repo, 'refs', 'main'), `${MAIN}\n`);
  }
  return repo;
}

test('repository ids and the cache directory as huggingface_hub picks it', () => {
  assert.ok(looksLikeRepoId(REPO));
  for (const bad of ['a', 'a/b/c', '../x', 'a/..', '/abs/path', 'a/b.']) assert.equal(looksLikeRepoId(bad), false, bad);
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/x', HF_HOME: '/y' }), '/x');
  assert.equal(hubCacheDir({ HF_HOME: '/y' }), '/y/hub');
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/z' }), '/z/huggingface/hub');
  assert.match(hubCacheDir({}), /\.cache\/huggingface\/hub$/);
});

test('refs/main picks the snapshot; a revision picks another; a lone snapshot needs no ref', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const repo = await fakeHub(join(dir, 'home', 'hub'));
    assert.equal(resolveHubModel(REPO, { env: { HF_HOME: join(dir, 'home') } }), join(repo, 'snapshots', MAIN));
    assert.equal(resolveHubModel(REPO, { env: { HF_HUB_CACHE: join(dir, 'home', 'hub') }, revision: OLD }), join(repo, 'snapshots', OLD));
    const lone = await fakeHub(join(dir, 'lone'), false);
    assert.equal(resolveHubModel(REPO, { env: { HF_HUB_CACHE: join(dir, 'lone') } }), join(lone, 'snapshots', MAIN));
  } finally {
    await cleanup();
  }
});

test('--model org/name opens the cached snapshot (HF_HUB_CACHE); a model not there names where it looked and how to download it', async () => {
  const { dir, cleanup } = await tempDir();
  const saved = { ...process.env };
  try {
    await fakeHub(join(dir, 'hub'));
    process.env.HF_HUB_CACHE = join(dir, 'hub');
    const src = await openModelSource({ model: REPO, loadFormat: 'auto' });
    assert.equal(src.origin, join(dir, 'hub', `models--${REPO.replace('/', '--')}`, 'snapshots', MAIN));
    assert.equal(src.config.text.hiddenSize, 60);
    await src.weights.close();
    await assert.rejects(
      openModelSource({ model: 'mistralai/Not-There', loadFormat: 'auto' }),
      (e: Error) =>
        e instanceof CheckpointError &&
        e.message.includes(join(dir, 'hub', 'models--mistralai--Not-There')) &&
        e.message.includes('$HF_HUB_CACHE') &&
        e.message.includes('hf download mistralai/Not-There'),
    );
  } finally {
    process.env = saved;
    await cleanup();
  }
});

test('a ref naming a missing snapshot, and several snapshots without a ref, are explained', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const repo = await fakeHub(join(dir, 'hub'));
    await writeFile(join(repo, 'refs', 'main'), 'c'.repeat(40));
    assert.throws(() => resolveHubModel(REPO, { env: { HF_HUB_CACHE: join(dir, 'hub') } }), /refs\/main names commit c{40} but .* does not exist \(an interrupted download\?\)/);
    assert.throws(() => resolveHubModel(REPO, { env: { HF_HUB_CACHE: join(dir, 'hub') }, revision: 'dev' }), /refs\/dev does not exist and .*snapshots holds 2 snapshots/);
  } finally {
    await cleanup();
  }
});
