import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { VERSION } from '../src/index.js';
import { repoRoot } from './helpers/paths.js';
import { join } from 'node:path';

test('package entry point loads and the repo root is found', () => {
  assert.match(VERSION, /^\d+\.\d+\.\d+$/);
  assert.ok(existsSync(join(repoRoot, 'package.json')));
});
