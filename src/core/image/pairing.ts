/**
 * Pairs infrared / visible (/ label) files by stem, from folder layouts
 * (`ir/ vi/ label/`, `Infrared/ Visible/`, `Inf/ Vis/`, `cropinfrared/ crop_LR_visible/`, ...)
 * or from name affixes (`x_ir.png` + `x_vi.png`, `x_IR` + `x_VIS`, `x-ir`, `IR_x` + `VIS_x`, ...).
 *
 * Works on plain path strings (Node paths or the browser's `webkitRelativePath`), so it can
 * run anywhere. Matching is case-insensitive; the reported stem keeps the IR file's case.
 */

/** Role of a file in a pair. */
export type PairRole = 'ir' | 'vi' | 'label';

/** One matched pair; paths are the inputs given, unchanged. */
export interface FilePair {
  /** File stem (name without extension and role affix), unique within one `pairFiles` result. */
  stem: string;
  ir: string;
  vi: string;
  label?: string;
  /** Images, or videos (an infrared and a visible video; no label). */
  media: Media;
}

/** What a pair's files hold. */
export type Media = 'image' | 'video';

/** A file that is not part of any pair, with the reason in words. */
export interface UnmatchedFile {
  path: string;
  reason: string;
}

/** Result of {@link pairFiles}. Pairs are sorted by stem. */
export interface PairingResult {
  pairs: FilePair[];
  unmatched: UnmatchedFile[];
}

/** Image file extensions accepted as pair members (lower case, no dot). */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'bmp', 'tif', 'tiff', 'webp', 'gif'];
/** Video file extensions accepted as pair members where videos are (the app). */
export const VIDEO_EXTENSIONS = ['mp4', 'webm', 'mkv', 'mov', 'm4v', 'ogv'];

const FOLDER_ROLES: Record<PairRole, RegExp> = {
  // Whole folder names; `.*infrared` / `.*visible` also catch RoadScene's `cropinfrared`,
  // `crop_LR_visible`, and M3FD's `Ir`/`Vis`, LLVIP's `infrared`/`visible`.
  ir: /^(ir|inf|infrared|.*infrared.*|thermal|lwir|ir_?images?|tir)$/i,
  vi: /^(vi|vis|visible|.*visible.*|rgb|vi_?images?|vis_?images?)$/i,
  label: /^(label|labels|.*_labels?|seg|segmentation|seg_?labels?|masks?|gt)$/i,
};

// Affix tokens in file names; the separator is required so that e.g. `bird.png` is not IR.
const AFFIX_TOKENS: Record<PairRole, string> = {
  ir: 'ir|inf|infrared|thermal|lwir|tir',
  vi: 'vi|vis|visible|rgb',
  label: 'label|labels|seg|gt|mask',
};
const SUFFIX: Record<PairRole, RegExp> = {
  ir: new RegExp(`^(.+?)[_\\-. ](?:${AFFIX_TOKENS.ir})$`, 'i'),
  vi: new RegExp(`^(.+?)[_\\-. ](?:${AFFIX_TOKENS.vi})$`, 'i'),
  label: new RegExp(`^(.+?)[_\\-. ](?:${AFFIX_TOKENS.label})$`, 'i'),
};
const PREFIX: Record<PairRole, RegExp> = {
  ir: new RegExp(`^(?:${AFFIX_TOKENS.ir})[_\\-. ](.+)$`, 'i'),
  vi: new RegExp(`^(?:${AFFIX_TOKENS.vi})[_\\-. ](.+)$`, 'i'),
  label: new RegExp(`^(?:${AFFIX_TOKENS.label})[_\\-. ](.+)$`, 'i'),
};
const ROLES: PairRole[] = ['ir', 'vi', 'label'];
const ROLE_WORD: Record<PairRole, string> = { ir: 'infrared', vi: 'visible', label: 'label' };

interface Classified {
  path: string;
  role: PairRole;
  stem: string;
  media: Media;
  /** Case-folded key: context folders + stem. Files of one pair share it. */
  key: string;
  /** Context folders (original case) used to disambiguate equal stems from different groups. */
  context: string;
}

function splitName(name: string): { base: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return { base: name, ext: '' };
  return { base: name.slice(0, dot), ext: name.slice(dot + 1).toLowerCase() };
}

function stripAffix(base: string, role: PairRole): string | null {
  const s = SUFFIX[role].exec(base);
  if (s) return s[1];
  const p = PREFIX[role].exec(base);
  if (p) return p[1];
  return null;
}

function classify(path: string, videos: boolean): Classified | UnmatchedFile | null {
  const parts = path.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  const name = parts[parts.length - 1] ?? '';
  const dirs = parts.slice(0, -1);
  // Hidden files and OS litter (.DS_Store, ._x.png from macOS archives) are ignored silently.
  if (name.startsWith('.') || /^thumbs\.db$/i.test(name) || /^desktop\.ini$/i.test(name)) return null;
  const { base, ext } = splitName(name);
  const media: Media | null = IMAGE_EXTENSIONS.includes(ext) ? 'image' : videos && VIDEO_EXTENSIONS.includes(ext) ? 'video' : null;
  if (!media) return { path, reason: `not an image${videos ? ' or video' : ''} file (ignored)` };

  // The nearest role folder above the file gives its role unless the name carries a role
  // affix (`x_vi.png`), which is more specific. The folders around the role folder form the
  // context, so `a/ir/x.png` pairs with `a/vi/x.png` but not with `b/vi/x.png`.
  let folderIdx = -1;
  let folderRole: PairRole | undefined;
  for (let d = dirs.length - 1; d >= 0 && !folderRole; d--) {
    folderRole = ROLES.find((r) => FOLDER_ROLES[r].test(dirs[d]));
    if (folderRole) folderIdx = d;
  }
  let role: PairRole | undefined;
  let stem: string | null = null;
  // Try the folder's own role first so that `ir/x_ir.png` strips `_ir`.
  for (const r of folderRole ? [folderRole, ...ROLES.filter((x) => x !== folderRole)] : ROLES) {
    stem = stripAffix(base, r);
    if (stem !== null) {
      role = r;
      break;
    }
  }
  if (!role) {
    role = folderRole;
    stem = base;
  }
  if (!role || stem === null) {
    return {
      path,
      reason: 'cannot tell infrared from visible (not in an ir/ or vi/ folder, no _ir/_vi in the name)',
    };
  }
  const context = folderIdx >= 0
    ? [...dirs.slice(0, folderIdx), '*', ...dirs.slice(folderIdx + 1)].join('/')
    : dirs.join('/');
  if (media === 'video' && role === 'label') return { path, reason: 'a label video is not read (labels are images)' };
  // Images pair with images and videos with videos.
  return { path, role, stem, media, key: `${media}:${context}/${stem}`.toLowerCase(), context };
}

/**
 * Matches infrared, visible and optional label files by stem.
 *
 * @param paths file paths with `/` or `\` separators (relative or absolute).
 * @returns pairs sorted by stem, and every file left out with a reason: non-image files,
 *   files whose role cannot be told, duplicates (a second file of the same role and stem; the
 *   first by path order is kept), and IR/VI/label files without a partner.
 *   When equal stems come from different folder groups, the stem is prefixed with the group's
 *   folders (`a_b_stem`) so that stems stay unique (they name output files).
 */
export function pairFiles(paths: string[], { videos = false }: { videos?: boolean } = {}): PairingResult {
  const unmatched: UnmatchedFile[] = [];
  const groups = new Map<string, Partial<Record<PairRole, Classified>>>();
  for (const p of [...paths].sort()) {
    const c = classify(p, videos);
    if (c === null) continue;
    if (!('role' in c)) {
      unmatched.push(c);
      continue;
    }
    const g = groups.get(c.key) ?? {};
    const prev = g[c.role];
    if (prev) {
      unmatched.push({
        path: c.path,
        reason: `duplicate ${ROLE_WORD[c.role]} ${c.media} for stem '${c.stem}' (kept ${prev.path})`,
      });
      continue;
    }
    g[c.role] = c;
    groups.set(c.key, g);
  }

  const pairs: (FilePair & { context: string })[] = [];
  for (const g of groups.values()) {
    if (g.ir && g.vi) {
      pairs.push({ stem: g.ir.stem, ir: g.ir.path, vi: g.vi.path, ...(g.label ? { label: g.label.path } : {}), media: g.ir.media, context: g.ir.context });
      continue;
    }
    for (const role of ROLES) {
      const c = g[role];
      if (!c) continue;
      const missing = role === 'ir' ? 'visible' : role === 'vi' ? 'infrared' : 'infrared/visible';
      unmatched.push({ path: c.path, reason: `no ${missing} ${c.media} with stem '${c.stem}'` });
    }
  }

  // Stems name output files, so make them unique across folder groups.
  const count = new Map<string, number>();
  for (const p of pairs) count.set(p.stem.toLowerCase(), (count.get(p.stem.toLowerCase()) ?? 0) + 1);
  const out: FilePair[] = pairs.map(({ context, ...p }) => {
    if ((count.get(p.stem.toLowerCase()) ?? 0) < 2) return p;
    const prefix = context.split('/').filter((s) => s !== '*' && s !== '').join('_');
    return { ...p, stem: prefix ? `${prefix}_${p.stem}` : p.stem };
  });
  out.sort((a, b) => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : 0));
  unmatched.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { pairs: out, unmatched };
}
