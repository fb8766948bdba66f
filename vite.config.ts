/**
 * Vite config for the playground app.
 *
 * - COOP/COEP on dev and preview: the WASM backend needs SharedArrayBuffer (cross-origin
 *   isolation) for its threads.
 * - Workers are ES modules (WebGPU works in a module worker; tfjs is imported there only).
 * - `models/` (trained weights, at the repo root) is served at `<base>/models/` in dev and
 *   copied into the build output, so `vite preview` serves it too.
 * - `.wasm` files are served as `application/wasm` (dev: Vite does it; preview: sirv does it;
 *   the middleware below makes sure for `models/` too).
 * - The privacy promise (nothing leaves the origin) is enforced by a Content-Security-Policy:
 *   a `<meta>` in the built page (so any static server keeps it) and a header from `vite
 *   preview` (`npm start`). The dev server goes without (Vite's HMR client is inline).
 * - Offline once loaded: a service worker (vite-plugin-pwa, Workbox `generateSW`) precaches the
 *   built app, its WASM files, the weights and the samples, each under a content hash, so new
 *   weights replace the cached ones when the new version is taken (the page offers a reload);
 *   the web app manifest makes it installable. Build only.
 */
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync, copyFileSync } from 'node:fs';
import { join, resolve, extname, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
/** Weights folder served as `models/`; `MODELS_DIR` overrides it (e.g. to try other weights). */
const MODELS_DIR = resolve(ROOT, process.env.MODELS_DIR ?? 'models');

/** Headers for cross-origin isolation (SharedArrayBuffer for WASM threads). */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * No other origin, for anything. WASM needs 'wasm-unsafe-eval' to compile; the threaded WASM
 * backend starts its pthreads from blob: workers; images and downloads use blob: URLs.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self' blob: data:",
  "img-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/** Puts the policy into the built page. */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'fusion-playground:csp',
    apply: 'build',
    transformIndexHtml: (html) => html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}" />`),
  };
}

const MIME: Record<string, string> = {
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.wasm': 'application/wasm',
  '.md': 'text/markdown; charset=utf-8',
};

/** Files of `models/` that the app may fetch (everything else, e.g. checkpoints, stays out). */
function isServedModelFile(name: string): boolean {
  return /\.(json|bin)$/i.test(name);
}

function copyModels(outDir: string): number {
  if (!existsSync(MODELS_DIR)) return 0;
  let n = 0;
  for (const model of readdirSync(MODELS_DIR)) {
    const dir = join(MODELS_DIR, model);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir)) {
      if (!isServedModelFile(f) || !statSync(join(dir, f)).isFile()) continue;
      const dst = join(outDir, 'models', model);
      mkdirSync(dst, { recursive: true });
      copyFileSync(join(dir, f), join(dst, f));
      n++;
    }
  }
  return n;
}

/** Serves `models/` during `vite dev` and copies it into `dist/models/` on build. */
function serveModels(): Plugin {
  let outDir = 'dist';
  let isBuild = false;
  return {
    name: 'fusion-playground:models',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
      isBuild = config.command === 'build';
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '').split('?')[0];
        const m = /^\/models\/(.+)$/.exec(decodeURIComponent(url));
        if (!m) return next();
        const file = normalize(join(MODELS_DIR, m[1]));
        if (!file.startsWith(MODELS_DIR + sep) || !existsSync(file) || !statSync(file).isFile()
          || !isServedModelFile(file)) {
          res.statusCode = 404;
          res.end('not found');
          return;
        }
        res.setHeader('Content-Type', MIME[extname(file).toLowerCase()] ?? 'application/octet-stream');
        res.setHeader('Content-Length', String(statSync(file).size));
        res.setHeader('Cache-Control', 'no-cache');
        for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
        createReadStream(file).pipe(res);
      });
    },
    // Before the service worker is generated (a sequential hook after this one), so that the
    // weights are in its precache.
    closeBundle: {
      sequential: true,
      order: 'pre',
      handler() {
        if (!isBuild) return;
        const n = copyModels(outDir);
        this.info?.(`copied ${n} model file(s) into ${outDir}/models`);
      },
    },
  };
}

/**
 * tfjs-backend-wasm starts its pthreads from `wasmFactoryThreadedSimd.toString()` (a Blob of the
 * factory's source). After bundling and minification that source refers to renamed outer
 * variables ("ReferenceError: e is not defined" in every pthread). This gives the factory a
 * `toString` that returns the original, self-contained module text instead.
 */
const THREADED_WASM_JS = /tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;
function selfContainedWasmFactory(code: string): string {
  const original = `(function(){var module=undefined,exports=undefined,define=undefined;\n${code}\n;return WasmBackendModuleThreadedSimd;})()`;
  return `${code}\n;WasmBackendModuleThreadedSimd.toString = function () { return ${JSON.stringify(original)}; };\n`;
}
function wasmThreadsFix(): Plugin {
  return {
    name: 'fusion-playground:wasm-threads-fix',
    enforce: 'pre',
    transform(code, id) {
      if (!THREADED_WASM_JS.test(id.split('?')[0])) return null;
      return { code: selfContainedWasmFactory(code), map: null };
    },
  };
}

/** The service worker and the web app manifest (see the header). */
function offline(): Plugin[] {
  return VitePWA({
    registerType: 'prompt',
    // Registered by the app (src/ui/offline.ts), which says when it is ready offline or updated.
    injectRegister: null,
    manifest: {
      name: 'Fusion Playground',
      short_name: 'Fusion',
      description: 'Infrared-visible image fusion with segmentation and detection, running locally in the browser.',
      start_url: './',
      scope: './',
      display: 'standalone',
      background_color: '#f4f1ec',
      theme_color: '#2b2f36',
      icons: [
        { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
        { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any maskable' },
      ],
    },
    workbox: {
      globPatterns: ['**/*.{html,js,css,wasm,json,bin,png,jpg,webmanifest}'],
      // The published networks' weights load when a person first compares one, not at install;
      // kept once fetched, so a method used before still runs offline.
      globIgnores: ['models/peer-*/**'],
      runtimeCaching: [{ urlPattern: /\/models\/peer-[^/]+\/[^/]+$/, handler: 'NetworkFirst', options: { cacheName: 'published-weights' } }],
      // The worker chunk (tfjs and its backends) is over 2 MB, S's weights 4 MB.
      maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
      cleanupOutdatedCaches: true,
      navigateFallback: 'index.html',
    },
  });
}

export default defineConfig({
  base: './',
  plugins: [react(), serveModels(), wasmThreadsFix(), contentSecurityPolicy(), offline()],
  server: { headers: ISOLATION_HEADERS, port: 5173 },
  preview: { headers: { ...ISOLATION_HEADERS, 'Content-Security-Policy': CONTENT_SECURITY_POLICY }, port: 4173 },
  worker: { format: 'es', plugins: () => [wasmThreadsFix()] },
  build: {
    target: 'es2022',
    // tfjs + backends form one large worker chunk; that is expected.
    chunkSizeWarningLimit: 4096,
    sourcemap: false,
  },
  optimizeDeps: {
    // Pre-bundling (dev) needs the same fix as the build.
    rolldownOptions: { plugins: [wasmThreadsFix()] },
  },
});
