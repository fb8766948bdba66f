/** Importing a folder of another method's fused images: matched to the loaded pairs by name, the rest reported. */
import { beforeEach, describe, expect, it } from 'vitest';
import { importedFused } from './cache';
import { fusedByOf, importFusedFolder, removeImported } from './methods';
import { useStore, type PairState } from './store/store';

const pair = (id: string): PairState => ({ id, name: id, origin: 'user', paths: { ir: `${id}_ir.png`, vi: `${id}_vi.png` } });
const file = (path: string) => Object.assign(new File([new Uint8Array(1)], path.split('/').at(-1)!), { webkitRelativePath: path });

beforeEach(() => {
  useStore.setState({ pairs: {}, order: [], results: {}, methods: {}, compareIds: [] });
});

describe('Import fused results', () => {
  it('matches images to pairs by name (case ignored), reports strays, missing pairs, non-images and duplicates, and compares the folder', () => {
    useStore.getState().addPairs([pair('00001D'), pair('00002N'), pair('00003D')]);
    const r = importFusedFolder([
      file('SeAFusion/00001d.png'), file('SeAFusion/00002N.jpg'), file('SeAFusion/00002N.png'), file('SeAFusion/zz.png'), file('SeAFusion/readme.txt'),
    ]);
    expect(r).toMatchObject({ name: 'SeAFusion (imported)', matched: 2, unmatched: ['zz.png'], missing: ['00003D'] });
    expect(r.ignored).toEqual(['readme.txt', '00002N.png (a second image with this name)']);
    const s = useStore.getState();
    expect(s.methods[r.id!]).toEqual({ id: r.id, kind: 'imported', name: 'SeAFusion (imported)', files: 3 });
    expect(s.compareIds).toEqual([r.id]);
    expect(fusedByOf(r.id!, '00001D')).toMatchObject({ kind: 'image', image: { kind: 'blob', name: '00001d.png' } });
    expect(() => fusedByOf(r.id!, '00003D')).toThrow('no image named 00003D in SeAFusion (imported)');
    expect(fusedByOf('some-run', '00001D')).toBeUndefined();
    removeImported(r.id!);
    expect(useStore.getState().methods[r.id!]).toBeUndefined();
    expect(useStore.getState().compareIds).toEqual([]);
    expect(importedFused.has(r.id!)).toBe(false);
  });

  it('imports nothing from a selection without images', () => {
    useStore.getState().addPairs([pair('a')]);
    const r = importFusedFolder([file('notes.txt')]);
    expect(r.id).toBeNull();
    expect(r.ignored).toEqual(['notes.txt']);
    expect(useStore.getState().methods).toEqual({});
  });
});
