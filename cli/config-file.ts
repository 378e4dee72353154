// Reads a run config file (YAML or JSON) and validates it with siri/config.ts. Lives in cli/ because it
// touches the file system; errors name the file and every bad field path in one line.
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { CliError } from './errors';
import { RunConfigError, parseRunConfig, type RunConfig } from '../siri/config';

/** Parses file text: JSON for *.json, YAML (a superset of JSON) for everything else. */
export function parseConfigText(text: string, path: string): unknown {
  if (path.toLowerCase().endsWith('.json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new CliError(`${path}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const where = err.linePos?.[0] ? ` (line ${err.linePos[0].line}, column ${err.linePos[0].col})` : '';
      throw new CliError(`${path}: not valid YAML${where}: ${err.message.split('\n')[0] ?? ''}`);
    }
    throw err;
  }
}

/**
 * Loads and validates a run config file. The file may start from a preset (`preset: toy`) and
 * override fields. Every problem is reported: `<file>: invalid run config: a.b: expected …; c: unknown key`.
 */
export function loadRunConfigFile(path: string): RunConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      `cannot read run config ${path}${code === 'ENOENT' ? ': no such file' : `: ${String(err)}`}`,
    );
  }
  const value = parseConfigText(text, path);
  try {
    return parseRunConfig(value);
  } catch (err) {
    if (err instanceof RunConfigError) {
      const list = err.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
      throw new CliError(`${path}: invalid run config: ${list}`);
    }
    throw err;
  }
}
