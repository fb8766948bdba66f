/**
 * Runs shared between tabs of the app: each tab says on a BroadcastChannel which run it stored
 * or deleted, and the others read that run from IndexedDB (or drop it), so a run made in one
 * tab appears in the other and no tab writes back an old copy of it.
 */

import * as v from 'valibot';

/** What one tab tells the others (checked on arrival: another tab may run another version). */
const runsMessage = v.object({ kind: v.picklist(['stored', 'deleted']), id: v.pipe(v.string(), v.minLength(1), v.maxLength(100)) });
export type RunsMessage = v.InferOutput<typeof runsMessage>;

const CHANNEL = 'fusion-playground-runs';
let channel: BroadcastChannel | null = null;

function open(): BroadcastChannel | null {
  if (!channel && typeof BroadcastChannel !== 'undefined') channel = new BroadcastChannel(CHANNEL);
  return channel;
}

/** Tells the other tabs (a tab does not hear its own messages). */
export function announce(message: RunsMessage): void {
  open()?.postMessage(message);
}

/** Hears the other tabs' messages. */
export function listen(handler: (message: RunsMessage) => void): void {
  const c = open();
  if (!c) return;
  c.onmessage = (e: MessageEvent<unknown>) => {
    const m = v.safeParse(runsMessage, e.data);
    if (m.success) handler(m.output);
  };
}
