/**
 * Offline use: registers the service worker that the build generates (vite-plugin-pwa), which
 * precaches the app, its WASM files, the weights and the samples. The header says when the app
 * works offline, and when a new version (new weights, say) is cached and waiting: it is taken
 * on the person's reload, never by reloading under them (that would drop their pairs and runs).
 */
import { registerSW } from 'virtual:pwa-register';
import { useStore } from './store/store';

let update: ((reload?: boolean) => Promise<void>) | null = null;

export function startOffline(): void {
  if (import.meta.env.DEV || typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  const s = useStore.getState;
  update = registerSW({
    immediate: true,
    onRegisteredSW: (_url, registration) => {
      // Installed on an earlier visit: this page already works offline.
      if (registration?.active) s().setOffline('ready');
    },
    onOfflineReady: () => {
      s().setOffline('ready');
      s().addLog('info', 'The app, its weights and the samples are cached: it now works offline.');
    },
    onNeedRefresh: () => {
      s().setOffline('update');
      s().addLog('info', 'A new version of the app is cached: reload (header button) to use it.');
    },
    // Not a fault of the page (service workers off in this browser or profile): said, not warned.
    onRegisterError: (e: Error) => s().addLog('info', `Offline use is unavailable here: the browser did not register the service worker (${e?.message ?? String(e)}).`),
  });
}

/** Takes the waiting version: the page reloads with it. */
export function applyUpdate(): void {
  void update?.(true);
}
