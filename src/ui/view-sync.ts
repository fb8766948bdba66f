/**
 * Zoom and pan shared by every image view, kept out of React (pointer moves would re-render
 * everything). Views subscribe and write their CSS transform directly.
 *
 * The state is in image pixels: `zoom` (screen px per image px; null = fit the viewport) and
 * the image point shown at the viewport centre. Each view computes its own translation, so
 * views of different sizes stay aligned on the same image point.
 */

export interface ViewState {
  /** Screen pixels per image pixel; null means "fit". */
  zoom: number | null;
  /** Image point at the viewport centre (image px). */
  cx: number;
  cy: number;
}

type Listener = (v: ViewState) => void;

let state: ViewState = { zoom: null, cx: 0, cy: 0 };
const listeners = new Set<Listener>();

export const MIN_ZOOM = 0.05;
export const MAX_ZOOM = 32;

export function getView(): ViewState {
  return state;
}

export function setView(v: ViewState): void {
  state = v;
  for (const l of listeners) l(state);
}

export function subscribeView(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** Fit scale of an image in a viewport (never above 1:1 × 4). */
export function fitZoom(vw: number, vh: number, iw: number, ih: number): number {
  if (!iw || !ih || !vw || !vh) return 1;
  return Math.min(vw / iw, vh / ih) * 0.98;
}

/** Resets to "fit" centred on the image. */
export function fitView(iw: number, ih: number): void {
  setView({ zoom: null, cx: iw / 2, cy: ih / 2 });
}

/** The transform of a view: image px → viewport px. */
export function transformFor(v: ViewState, vw: number, vh: number, iw: number, ih: number): { s: number; tx: number; ty: number } {
  const s = v.zoom ?? fitZoom(vw, vh, iw, ih);
  const cx = v.zoom === null ? iw / 2 : v.cx;
  const cy = v.zoom === null ? ih / 2 : v.cy;
  return { s, tx: vw / 2 - cx * s, ty: vh / 2 - cy * s };
}

/** Zooms by `factor` keeping the image point under viewport point (px, py) fixed. */
export function zoomAt(factor: number, px: number, py: number, vw: number, vh: number, iw: number, ih: number): void {
  const { s, tx, ty } = transformFor(state, vw, vh, iw, ih);
  const ns = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, s * factor));
  // Image point under the pointer stays put.
  const ix = (px - tx) / s;
  const iy = (py - ty) / s;
  const ntx = px - ix * ns;
  const nty = py - iy * ns;
  setView({ zoom: ns, cx: (vw / 2 - ntx) / ns, cy: (vh / 2 - nty) / ns });
}

/** Pans by a screen-pixel delta. */
export function panBy(dx: number, dy: number, vw: number, vh: number, iw: number, ih: number): void {
  const { s, tx, ty } = transformFor(state, vw, vh, iw, ih);
  setView({ zoom: s, cx: (vw / 2 - tx - dx) / s, cy: (vh / 2 - ty - dy) / s });
}

/** Sets an absolute zoom (e.g. 1:1) around the current centre. */
export function setZoom(z: number, vw: number, vh: number, iw: number, ih: number): void {
  const cur = transformFor(state, vw, vh, iw, ih);
  setView({ zoom: Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z)), cx: (vw / 2 - cur.tx) / cur.s, cy: (vh / 2 - cur.ty) / cur.s });
}

// The last stage laid out: its viewport and image size, for zooming from buttons outside it.
let geometry: { vw: number; vh: number; iw: number; ih: number } | null = null;

/** Stages report their geometry as they lay out (see {@link zoomCentre}). */
export function noteGeometry(vw: number, vh: number, iw: number, ih: number): void {
  if (vw > 0 && vh > 0 && iw > 0 && ih > 0) geometry = { vw, vh, iw, ih };
}

/** Zooms every stage by `factor` about the view's centre, or fits with 'fit' (buttons). */
export function zoomCentre(factor: number | 'fit'): void {
  if (!geometry) return;
  const { vw, vh, iw, ih } = geometry;
  if (factor === 'fit') fitView(iw, ih);
  else setZoom(transformFor(state, vw, vh, iw, ih).s * factor, vw, vh, iw, ih);
}
