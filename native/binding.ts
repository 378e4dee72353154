// Loads the compiled siri_native.node addon (built by scripts/build-native) and explains what to do
// when it is missing. Everything else in native/ goes through `loadBinding()`.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
// SIRI_NATIVE_ADDON points at another build of the same addon (e.g. a CUDA build or a developer's copy).
export const NATIVE_ADDON_PATH =
  process.env.SIRI_NATIVE_ADDON ?? join(here, 'build', 'Release', 'siri_native.node');

// The raw addon surface; typed wrappers in native/*.ts narrow it further.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RawBinding = Record<string, any>;

let cached: RawBinding | undefined;

export function loadBinding(): RawBinding {
  if (cached) return cached;
  if (!existsSync(NATIVE_ADDON_PATH)) {
    throw new Error(
      `siri native engine not built (${NATIVE_ADDON_PATH} is missing); run scripts/setup or npm run build:native`,
    );
  }
  // libgomp's default lets idle OpenMP workers spin after every parallel region; on a machine with few
  // cores shared with other processes that stalls the engine (a 2-core machine measured 10x slower first
  // calls). Sleep-waiting costs nothing measurable here. Must be set before libtorch loads; an explicit
  // setting wins.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  const require = createRequire(import.meta.url);
  cached = require(NATIVE_ADDON_PATH) as RawBinding;
  return cached;
}
