// `siri schedule`: prints the length schedule L(t) (max new tokens per training step) as JSON lines,
// a JSON array, CSV, or a terminal chart. Paper defaults (cosine 16384 ↔ 8192, cycle 640, 1920 steps).
import type { Command } from 'commander';
import { CliError } from './errors';
import { describeIssues } from '../siri/config';
import {
  PAPER_SCHEDULE_DEFAULTS,
  SCHEDULE_KINDS,
  ScheduleSchema,
  describeSchedule,
  isCyclic,
  namedCheckpoints,
  scheduleTable,
  type ScheduleConfig,
} from '../siri/schedule';

export interface ScheduleFlags {
  kind: string;
  lMax: string;
  lMin: string;
  cycle: string;
  steps?: string;
  phase: string;
  granularity: string;
  stages?: string;
  points?: string;
  json?: boolean;
  csv?: boolean;
  plot?: boolean;
  width: string;
  height: string;
}

const FLAG_OF_FIELD: Record<string, string> = {
  kind: '--kind',
  lMax: '--l-max',
  lMin: '--l-min',
  cycle: '--cycle',
  phase: '--phase',
  granularity: '--granularity',
  stages: '--stages',
  points: '--points',
};

function parseIntFlag(flag: string, value: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw new CliError(`${flag} must be an integer, got "${value}"`);
  return Number(value);
}

/** "0:8192,320:16384" → [[0, 8192], [320, 16384]] */
function parsePairs(flag: string, value: string): [number, number][] {
  const pairs = value.split(',').map((part) => part.trim());
  return pairs.map((pair) => {
    const m = /^(\d+):(\d+)$/.exec(pair);
    if (!m) throw new CliError(`${flag} must be a list like 0:8192,320:16384 (step:length), got "${value}"`);
    return [Number(m[1]), Number(m[2])];
  });
}

/** Builds and validates the schedule from the flags; a bad value names its flag. */
export function scheduleFromFlags(flags: ScheduleFlags): ScheduleConfig {
  const kind = flags.kind;
  if (!(SCHEDULE_KINDS as readonly string[]).includes(kind)) {
    throw new CliError(`--kind must be one of ${SCHEDULE_KINDS.join(', ')}, got "${kind}"`);
  }
  let candidate: Record<string, unknown>;
  if (kind === 'constant') {
    candidate = { kind, lMax: parseIntFlag('--l-max', flags.lMax) };
  } else if (kind === 'stages') {
    if (!flags.stages) throw new CliError('--kind stages needs --stages, e.g. --stages 0:8192,320:16384');
    candidate = {
      kind,
      stages: parsePairs('--stages', flags.stages).map(([fromStep, length]) => ({ fromStep, length })),
    };
  } else if (kind === 'piecewise') {
    if (!flags.points)
      throw new CliError('--kind piecewise needs --points, e.g. --points 0:16384,320:8192,640:16384');
    candidate = {
      kind,
      points: parsePairs('--points', flags.points).map(([step, length]) => ({ step, length })),
      granularity: parseIntFlag('--granularity', flags.granularity),
    };
  } else {
    candidate = {
      kind,
      lMax: parseIntFlag('--l-max', flags.lMax),
      lMin: parseIntFlag('--l-min', flags.lMin),
      cycle: parseIntFlag('--cycle', flags.cycle),
      phase: parseIntFlag('--phase', flags.phase),
      granularity: parseIntFlag('--granularity', flags.granularity),
    };
  }
  const parsed = ScheduleSchema.safeParse(candidate, { reportInput: true });
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const field = typeof first?.path[0] === 'string' ? first.path[0] : 'kind';
  const flag = FLAG_OF_FIELD[field] ?? `--${field}`;
  if (field === 'lMin' && first?.code === 'custom') {
    throw new CliError(
      `--l-min (${String(candidate.lMin)}) must not exceed --l-max (${String(candidate.lMax)})`,
    );
  }
  const message = describeIssues(parsed.error.issues)[0]?.message ?? 'invalid value';
  throw new CliError(`${flag}: ${message}`);
}

/** --steps, else 3 cycles (the paper's 3 iterations; 1920 for non-cyclic kinds). */
function stepsFromFlags(flags: ScheduleFlags, schedule: ScheduleConfig): number {
  if (flags.steps === undefined)
    return 3 * (isCyclic(schedule) ? schedule.cycle : PAPER_SCHEDULE_DEFAULTS.cycle);
  const steps = parseIntFlag('--steps', flags.steps);
  if (steps < 1) throw new CliError(`--steps must be a positive integer, got "${flags.steps}"`);
  return steps;
}

type Row = { step: number; maxTokens: number };

export function formatJsonLines(rows: readonly Row[]): string {
  return rows.map((r) => JSON.stringify({ step: r.step, maxTokens: r.maxTokens })).join('\n') + '\n';
}

export function formatJsonArray(rows: readonly Row[]): string {
  return JSON.stringify(rows.map((r) => ({ step: r.step, maxTokens: r.maxTokens }))) + '\n';
}

export function formatCsv(rows: readonly Row[]): string {
  return ['step,maxTokens', ...rows.map((r) => `${r.step},${r.maxTokens}`)].join('\n') + '\n';
}

/**
 * A terminal chart of L(t), `width` columns wide in total. Each plot column covers a run of steps and
 * marks every row between the lowest and highest L in that run, so steep jumps stay visible.
 */
export function plotSchedule(
  rows: readonly Row[],
  options: { width: number; height: number; title: string },
): string {
  const values = rows.map((r) => r.maxTokens);
  const top = Math.max(...values);
  const bottom = Math.min(...values);
  const height = top === bottom ? 1 : Math.max(2, options.height);
  const labels = [String(top), String(bottom), String(Math.round((top + bottom) / 2))];
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const cols = Math.max(1, Math.min(rows.length, options.width - labelWidth - 2));
  const rowOf = (v: number): number =>
    top === bottom ? 0 : Math.round(((top - v) / (top - bottom)) * (height - 1));

  const grid: string[][] = Array.from({ length: height }, () => new Array<string>(cols).fill(' '));
  for (let c = 0; c < cols; c++) {
    const from = Math.floor((c * rows.length) / cols);
    const to = Math.max(from, Math.floor(((c + 1) * rows.length) / cols) - 1);
    const slice = values.slice(from, to + 1);
    const hiRow = rowOf(Math.max(...slice));
    const loRow = rowOf(Math.min(...slice));
    for (let r = hiRow; r <= loRow; r++) {
      const line = grid[r];
      if (line) line[c] = '●';
    }
  }
  const midRow = Math.floor((height - 1) / 2);
  const labelAt = (r: number): string => {
    if (r === 0) return String(top);
    if (r === height - 1) return String(bottom);
    if (r === midRow) return String(Math.round(top - ((top - bottom) * r) / (height - 1)));
    return '';
  };
  const lines = [options.title];
  grid.forEach((line, r) => {
    const label = labelAt(r);
    lines.push(`${label.padStart(labelWidth)} ${label ? '┤' : '│'}${line.join('').trimEnd()}`);
  });
  const axis = new Array<string>(cols).fill('─');
  const ticks = [0, Math.floor((cols - 1) / 2), cols - 1];
  for (const t of ticks) axis[t] = '┬';
  lines.push(`${' '.repeat(labelWidth)} └${axis.join('')}`);
  const stepAt = (c: number): number => rows[Math.floor((c * rows.length) / cols)]?.step ?? 0;
  const tickLabels = new Array<string>(cols + 12).fill(' ');
  for (const [i, t] of ticks.entries()) {
    const text = String(i === ticks.length - 1 ? (rows[rows.length - 1]?.step ?? 0) : stepAt(t));
    const start = Math.max(
      0,
      i === ticks.length - 1 ? t - text.length + 1 : i === 0 ? t : t - Math.floor(text.length / 2),
    );
    for (let k = 0; k < text.length; k++) tickLabels[start + k] = text[k] ?? ' ';
  }
  lines.push(`${' '.repeat(labelWidth + 2)}${tickLabels.join('').trimEnd()}`);
  return lines.join('\n') + '\n';
}

/** `head` then the items joined by ", ", broken into lines of at most `width` characters. */
function wrapList(head: string, items: readonly string[], width: number): string {
  if (items.length === 0) return '';
  const lines: string[] = [];
  let line = head;
  items.forEach((item, i) => {
    const piece = i < items.length - 1 ? `${item},` : item;
    if (line.length + 1 + piece.length > width) {
      lines.push(line);
      line = ' ';
    }
    line += ` ${piece}`;
  });
  lines.push(line);
  return lines.join('\n') + '\n';
}

/** The command's whole output for the given flags. */
export function scheduleOutput(flags: ScheduleFlags): string {
  const formats = [flags.json && '--json', flags.csv && '--csv', flags.plot && '--plot'].filter(Boolean);
  if (formats.length > 1) throw new CliError(`choose one output format, got ${formats.join(' and ')}`);
  const schedule = scheduleFromFlags(flags);
  const steps = stepsFromFlags(flags, schedule);
  const rows = scheduleTable(schedule, steps);
  if (flags.json) return formatJsonArray(rows);
  if (flags.csv) return formatCsv(rows);
  if (flags.plot) {
    const width = parseIntFlag('--width', flags.width);
    const height = parseIntFlag('--height', flags.height);
    if (width < 20) throw new CliError(`--width must be at least 20, got "${flags.width}"`);
    if (height < 2) throw new CliError(`--height must be at least 2, got "${flags.height}"`);
    const named = namedCheckpoints(schedule, steps);
    const footer = wrapList(
      'named checkpoints (name@step):',
      named.map((n) => `${n.name}@${n.step}`),
      width,
    );
    return (
      plotSchedule(rows, { width, height, title: `${describeSchedule(schedule)} — steps 0..${steps - 1}` }) +
      footer
    );
  }
  return formatJsonLines(rows);
}

export function registerScheduleCommand(program: Command): void {
  program
    .command('schedule')
    .description('print the rollout length schedule L(t): one {"step","maxTokens"} JSON object per line')
    .option('--kind <kind>', `scheduler: ${SCHEDULE_KINDS.join(' | ')}`, 'cosine')
    .option('--l-max <tokens>', 'longest cap (lMax)', String(PAPER_SCHEDULE_DEFAULTS.lMax))
    .option('--l-min <tokens>', 'shortest cap (lMin)', String(PAPER_SCHEDULE_DEFAULTS.lMin))
    .option('--cycle <steps>', 'cycle length T in steps', String(PAPER_SCHEDULE_DEFAULTS.cycle))
    .option('--steps <n>', 'steps to print (default 3 cycles: 1920 with the paper cycle)')
    .option('--phase <steps>', 'phase offset in steps', '0')
    .option('--granularity <tokens>', 'round L half up to a multiple of this', '1')
    .option('--stages <list>', 'for --kind stages: fromStep:length,… e.g. 0:8192,320:16384')
    .option('--points <list>', 'for --kind piecewise: step:length,… e.g. 0:16384,320:8192,640:16384')
    .option('--json', 'one JSON array instead of JSON lines')
    .option('--csv', 'CSV with header step,maxTokens')
    .option('--plot', 'draw the schedule in the terminal')
    .option('--width <cols>', 'plot width in columns', '80')
    .option('--height <rows>', 'plot height in rows', '16')
    .action((flags: ScheduleFlags) => {
      process.stdout.write(scheduleOutput(flags));
    });
}
