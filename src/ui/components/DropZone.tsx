/**
 * Drop target for files and whole folders, with file and folder pickers.
 */
import { useRef, useState, type DragEvent } from 'react';
import { importFiles } from '../actions';
import { filesFromDrop, filesFromInput } from '../files';
import { useStore } from '../store/store';

export function DropZone() {
  const [over, setOver] = useState(false);
  const [reading, setReading] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const dirInput = useRef<HTMLInputElement>(null);
  const addLog = useStore((s) => s.addLog);

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setOver(false);
    // Entries must be taken synchronously, during the event.
    const pending = filesFromDrop(e.dataTransfer);
    setReading(true);
    void pending.then(async ({ files, errors }) => {
      for (const err of errors) addLog('warn', `Could not read ${err}`);
      await importFiles(files);
    }).finally(() => setReading(false));
  };

  const onPick = (input: HTMLInputElement | null) => {
    if (!input) return;
    const files = filesFromInput(input.files);
    input.value = '';
    setReading(true);
    void importFiles(files).finally(() => setReading(false));
  };

  return (
    <div
      className={`dropzone${over ? ' over' : ''}`}
      data-testid="dropzone"
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <div className="dz-title">{reading ? 'Reading files…' : 'Drop IR/VI images or folders'}</div>
      <div className="dz-hint">
        Pairs match by file stem: <code>ir/</code> + <code>vi/</code> (+ <code>label/</code>) folders, or
        <code> name_ir</code> / <code>name_vi</code>.
      </div>
      <div className="dz-buttons">
        <button type="button" onClick={() => fileInput.current?.click()}>Choose files…</button>
        <button type="button" onClick={() => dirInput.current?.click()}>Choose folder…</button>
      </div>
      <input ref={fileInput} type="file" multiple accept="image/*,.tif,.tiff" hidden data-testid="file-input"
        onChange={(e) => onPick(e.currentTarget)} />
      <input ref={dirInput} type="file" multiple hidden data-testid="folder-input"
        {...{ webkitdirectory: '', directory: '' }}
        onChange={(e) => onPick(e.currentTarget)} />
    </div>
  );
}
