// Server-side rendering of Vega-Lite figures: Vega-Lite → Vega → SVG string (vega's headless View, no
// canvas) → PNG (resvg, a Rust SVG renderer). SVG ids are made unique per figure so several SVGs can be
// inlined into one HTML page without their clip paths or gradients clashing.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface RenderedImage {
  svg: string;
  png: Buffer;
  /** PNG size in pixels. */
  width: number;
  height: number;
}

/** PNG pixels per SVG pixel (2 = crisp on high-density screens and in print). */
export const PNG_SCALE = 2;

/**
 * A Vega/Vega-Lite logger that collects warnings and errors instead of printing them. Closures, not
 * methods: Vega copies the functions onto its View, so `this` cannot be relied on.
 */
function collectingLogger(messages: string[]): vega.LoggerInterface {
  const logger: vega.LoggerInterface = {
    level: () => vega.Warn,
    error: (...args: unknown[]) => {
      messages.push(`error: ${args.map(String).join(' ')}`);
      return logger;
    },
    warn: (...args: unknown[]) => {
      messages.push(`warning: ${args.map(String).join(' ')}`);
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/**
 * Vega-Lite spec → SVG text, rendered headlessly. Vega-Lite and Vega warnings (an unknown field, a bad
 * encoding) go into `warnings` when given, else to stderr.
 */
export async function specToSvg(spec: TopLevelSpec, warnings?: string[]): Promise<string> {
  const messages: string[] = warnings ?? [];
  const logger = collectingLogger(messages);
  const vgSpec = compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logger });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
    if (!warnings) for (const m of messages) process.stderr.write(`siri report: vega ${m}\n`);
  }
}

/** SVG → PNG at PNG_SCALE, on white, with the system fonts (DejaVu Sans on Debian). */
export function svgToPng(svg: string): { png: Buffer; width: number; height: number } {
  const rendered = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: PNG_SCALE },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  }).render();
  return { png: rendered.asPng(), width: rendered.width, height: rendered.height };
}

export async function renderSpec(spec: TopLevelSpec, warnings?: string[]): Promise<RenderedImage> {
  const svg = await specToSvg(spec, warnings);
  return { svg, ...svgToPng(svg) };
}

/**
 * Prefixes every id in an SVG and every reference to one (url(#id), href="#id"), so that ids stay
 * unique when several SVGs share one HTML document.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  const ids = new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  if (ids.size === 0) return svg;
  const rename = (id: string): string => (ids.has(id) ? `${prefix}-${id}` : id);
  return svg
    .replace(/(\sid=")([^"]+)"/g, (_, head: string, id: string) => `${head}${rename(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${rename(id)})`)
    .replace(/(href=")#([^"]+)"/g, (_, head: string, id: string) => `${head}#${rename(id)}"`);
}

/** Reads width and height from a PNG's IHDR chunk. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || signature.some((b, i) => png[i] !== b)) throw new Error('not a PNG file');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
