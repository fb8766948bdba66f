/**
 * Runs shared between tabs of the app: each tab says on a BroadcastChannel which run it stored
 * or deleted, and the others read that run from IndexedDB (or drop it), so a run made in one
 * tab appears in the other and no tab writes back an old copy of it.
 */

/** What one tab tells the others. */
export type RunsMessage = { kind: 'stored' | 'deleted'; id: string };

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
  if (c) c.onmessage = (e: MessageEvent<RunsMessage>) => handler(e.data);
}
