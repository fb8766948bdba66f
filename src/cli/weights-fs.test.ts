import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useBackend } from './node-backend';
import { loadModelFolderInto, loadModelFolderPartlyInto, saveModelFolder } from './weights-fs';

let dir: string;
beforeAll(async () => {
  await useBackend('cpu');
  dir = await mkdtemp(path.join(tmpdir(), 'weights-fs-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('weights-fs', () => {
  it('saves a model folder and loads it back; a truncated shard fails naming the file, params untouched', async () => {
    const src = { 'a/kernel': tf.variable(tf.tensor2d([[1, 2], [3, 4]])), 'a/bias': tf.variable(tf.tensor1d([0.5])) };
    const folder = path.join(dir, 'toy');
    const bytes = await saveModelFolder(folder, src, { card: { name: 'toy', params: 5 }, extra: { model: 'toy' } });
    expect(bytes).toBe(20);
    expect((await readdir(folder)).sort()).toEqual(['card.json', 'model.json', 'weights.bin']);
    const dst = { 'a/kernel': tf.variable(tf.zeros([2, 2])), 'a/bias': tf.variable(tf.zeros([1])) };
    const card = await loadModelFolderInto(folder, dst);
    expect(card).toEqual({ name: 'toy', params: 5 });
    expect(Array.from(await dst['a/kernel'].data())).toEqual([1, 2, 3, 4]);

    const bin = await readFile(path.join(folder, 'weights.bin'));
    await writeFile(path.join(folder, 'weights.bin'), bin.subarray(0, 12));
    dst['a/kernel'].assign(tf.zeros([2, 2]));
    await expect(loadModelFolderInto(folder, dst)).rejects.toThrow(/toy: weights\.bin is 12 bytes, manifest needs 20/);
    expect(Array.from(await dst['a/kernel'].data())).toEqual([0, 0, 0, 0]);
    await expect(loadModelFolderInto(path.join(dir, 'nope'), dst)).rejects.toThrow(/nope[\\/]model\.json: cannot read \(ENOENT\)/);
    await writeFile(path.join(folder, 'model.json'), '{"weightsManifest": [');
    await expect(loadModelFolderInto(folder, dst)).rejects.toThrow(/model\.json: not valid JSON/);
  });

  it('loads a folder saved before the model grew a layer, keeping the new layer as it is; strict loading refuses it', async () => {
    const folder = path.join(dir, 'older');
    await saveModelFolder(folder, { 'a/kernel': tf.variable(tf.tensor1d([1, 2])) }, { card: { name: 'older' } });
    const dst = { 'a/kernel': tf.variable(tf.zeros([2])), 'b/kernel': tf.variable(tf.tensor1d([7])) };
    await expect(loadModelFolderInto(folder, dst)).rejects.toThrow(/older: missing weight: b\/kernel/);
    expect(Array.from(await dst['a/kernel'].data())).toEqual([0, 0]);
    const { card, kept } = await loadModelFolderPartlyInto(folder, dst);
    expect(card).toEqual({ name: 'older' });
    expect(kept).toEqual(['b/kernel']);
    expect(Array.from(await dst['a/kernel'].data())).toEqual([1, 2]);
    expect(Array.from(await dst['b/kernel'].data())).toEqual([7]);
    // Weights the model lacks, or of another shape, are still refused, and nothing is loaded.
    const other = { 'a/kernel': tf.variable(tf.zeros([3])) };
    await expect(loadModelFolderPartlyInto(folder, other)).rejects.toThrow(/older: a\/kernel: shape \[2\] expected \[3\]/);
    const unrelated = { 'c/kernel': tf.variable(tf.zeros([1])) };
    await expect(loadModelFolderPartlyInto(folder, unrelated)).rejects.toThrow(/unknown weight \(not in the model\): a\/kernel/);
    tf.dispose([...Object.values(dst), ...Object.values(other), ...Object.values(unrelated)]);
  });
});
