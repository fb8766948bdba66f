import { describe, expect, it } from 'vitest';
import { pairFiles } from './pairing';

describe('pairFiles', () => {
  it('pairs ir/ vi/ label/ folders by stem, case-insensitively', () => {
    const r = pairFiles(['set/ir/00001D.png', 'set/vi/00001d.PNG', 'set/label/00001D.png', 'set/ir/00002N.png', 'set/vi/00002N.png']);
    expect(r.pairs).toEqual([
      { stem: '00001D', ir: 'set/ir/00001D.png', vi: 'set/vi/00001d.PNG', label: 'set/label/00001D.png', media: 'image' },
      { stem: '00002N', ir: 'set/ir/00002N.png', vi: 'set/vi/00002N.png', media: 'image' },
    ]);
    expect(r.unmatched).toEqual([]);
  });
  it('knows common folder names (Infrared/Visible, Inf/Vis, IR/VI, cropinfrared/crop_LR_visible)', () => {
    const r = pairFiles([
      'MSRS/Infrared/test/a.png', 'MSRS/Visible/test/a.png',
      'M3FD/Inf/b.png', 'M3FD/Vis/b.png',
      'VIFB/IR/c.jpg', 'VIFB/VI/c.jpg',
      'RoadScene/cropinfrared/d.jpg', 'RoadScene/crop_LR_visible/d.jpg',
    ]);
    expect(r.pairs.map((p) => p.stem)).toEqual(['a', 'b', 'c', 'd']);
    expect(r.unmatched).toEqual([]);
  });
  it('pairs suffix and prefix styles (_ir/_vi, _IR/_VIS, -ir, IR_x/VIS_x)', () => {
    const r = pairFiles(['x/a_ir.png', 'x/a_vi.png', 'x/B_IR.jpg', 'x/b_VIS.jpg', 'x/c-ir.png', 'x/c-vi.png', 'x/c_label.png', 'x/IR_7.bmp', 'x/VIS_7.bmp']);
    expect(r.pairs).toEqual([
      { stem: '7', ir: 'x/IR_7.bmp', vi: 'x/VIS_7.bmp', media: 'image' },
      { stem: 'B', ir: 'x/B_IR.jpg', vi: 'x/b_VIS.jpg', media: 'image' },
      { stem: 'a', ir: 'x/a_ir.png', vi: 'x/a_vi.png', media: 'image' },
      { stem: 'c', ir: 'x/c-ir.png', vi: 'x/c-vi.png', label: 'x/c_label.png', media: 'image' },
    ]);
  });
  it('strips a role affix inside a role folder, and lets a name affix override a misleading folder', () => {
    const r = pairFiles(['ir/x_ir.png', 'vi/X_VI.png', 'infrared-project/y_vi.png', 'infrared-project/y_ir.png']);
    expect(r.pairs).toEqual([
      { stem: 'x', ir: 'ir/x_ir.png', vi: 'vi/X_VI.png', media: 'image' },
      { stem: 'y', ir: 'infrared-project/y_ir.png', vi: 'infrared-project/y_vi.png', media: 'image' },
    ]);
  });
  it('accepts Windows separators and does not pair across different folder groups', () => {
    const r = pairFiles(['a\\ir\\1.png', 'a\\vi\\1.png', 'b/ir/2.png', 'c/vi/2.png']);
    expect(r.pairs).toEqual([{ stem: '1', ir: 'a\\ir\\1.png', vi: 'a\\vi\\1.png', media: 'image' }]);
    expect(r.unmatched.map((u) => u.reason)).toEqual(["no visible image with stem '2'", "no infrared image with stem '2'"]);
  });
  it('keeps stems unique when two folder groups share one', () => {
    const r = pairFiles(['tno/ir/01.png', 'tno/vi/01.png', 'road/ir/01.png', 'road/vi/01.png']);
    expect(r.pairs.map((p) => p.stem)).toEqual(['road_01', 'tno_01']);
  });
  it('reports unmatched, unknown-role, non-image and duplicate files', () => {
    const r = pairFiles(['ir/a.png', 'ir/A.jpg', 'vi/a.png', 'ir/lonely.png', 'label/orphan.png', 'misc/photo.png', 'vi/notes.txt', 'vi/.DS_Store']);
    expect(r.pairs).toEqual([{ stem: 'A', ir: 'ir/A.jpg', vi: 'vi/a.png', media: 'image' }]);
    const reasons = Object.fromEntries(r.unmatched.map((u) => [u.path, u.reason]));
    expect(reasons['ir/a.png']).toMatch(/duplicate infrared image for stem 'a' \(kept ir\/A\.jpg\)/);
    expect(reasons['ir/lonely.png']).toBe("no visible image with stem 'lonely'");
    expect(reasons['label/orphan.png']).toBe("no infrared/visible image with stem 'orphan'");
    expect(reasons['misc/photo.png']).toMatch(/cannot tell infrared from visible/);
    expect(reasons['vi/notes.txt']).toMatch(/not an image/);
    expect('vi/.DS_Store' in reasons).toBe(false);
  });

  it('pairs videos with videos where asked, never with an image, and reads no label video', () => {
    const paths = ['v/ir/run1.mp4', 'v/vi/run1.webm', 'v/ir/run2.mp4', 'v/vi/run2.png', 'v/label/run1.mp4', 'x/walk_IR.mov', 'x/walk_VI.mov'];
    const r = pairFiles(paths, { videos: true });
    expect(r.pairs).toEqual([
      { stem: 'run1', ir: 'v/ir/run1.mp4', vi: 'v/vi/run1.webm', media: 'video' },
      { stem: 'walk', ir: 'x/walk_IR.mov', vi: 'x/walk_VI.mov', media: 'video' },
    ]);
    const reasons = Object.fromEntries(r.unmatched.map((u) => [u.path, u.reason]));
    expect(reasons['v/ir/run2.mp4']).toBe("no visible video with stem 'run2'");
    expect(reasons['v/vi/run2.png']).toBe("no infrared image with stem 'run2'");
    expect(reasons['v/label/run1.mp4']).toMatch(/label video is not read/);
    // Without videos (the CLI), a video is just not an image.
    expect(pairFiles(['v/ir/run1.mp4']).unmatched[0].reason).toBe('not an image file (ignored)');
  });
});
