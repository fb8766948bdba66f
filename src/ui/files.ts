/**
 * Collecting files with their folder-relative paths from drag-and-drop (including whole
 * folders, via `webkitGetAsEntry`) and from file/folder pickers (`webkitRelativePath`).
 */
import type { PathedFile } from './actions';

function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const out: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    // readEntries returns batches (100 in Chromium) until an empty one.
    const next = () => reader.readEntries((batch) => {
      if (!batch.length) return resolve(out);
      out.push(...batch);
      next();
    }, reject);
    next();
  });
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, out: PathedFile[], errors: string[]): Promise<void> {
  const path = entry.fullPath.replace(/^\/+/, '');
  if (entry.isFile) {
    try {
      out.push({ path, file: await entryFile(entry as FileSystemFileEntry) });
    } catch (e) {
      errors.push(`${path}: ${(e as Error).message}`);
    }
  } else if (entry.isDirectory) {
    let children: FileSystemEntry[] = [];
    try {
      children = await readAllEntries(entry as FileSystemDirectoryEntry);
    } catch (e) {
      errors.push(`${path}/: ${(e as Error).message}`);
    }
    for (const c of children) await walk(c, out, errors);
  }
}

/**
 * Files from a drop. Must be called synchronously in the drop handler (the DataTransfer
 * items are only readable during the event); the returned promise resolves later.
 */
export function filesFromDrop(dt: DataTransfer): Promise<{ files: PathedFile[]; errors: string[] }> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (!entries.length && !loose.length) for (const f of Array.from(dt.files)) loose.push(f);
  return (async () => {
    const files: PathedFile[] = loose.map((file) => ({ path: file.name, file }));
    const errors: string[] = [];
    for (const e of entries) await walk(e, files, errors);
    return { files, errors };
  })();
}

/** Files from an `<input type=file>` (with or without `webkitdirectory`). */
export function filesFromInput(list: FileList | null): PathedFile[] {
  if (!list) return [];
  return Array.from(list).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}
