// The `siri` command-line interface: one commander program; each command lives in cli/<name>.ts
// and registers itself here. Errors are one line on stderr and a non-zero exit, never a stack trace.
import { Command, CommanderError } from 'commander';
import { CliError } from './cli/errors';
import { registerServerCommand } from './cli/server';
import { registerWorkerCommand } from './cli/worker';
import { registerDemoCommand } from './cli/demo';
import { registerTrainCommand } from './cli/train';
import { registerRunCommands } from './cli/runs';
import { registerEvalCommand } from './cli/eval';
import { registerExperimentCommand } from './cli/experiment';
import { registerScheduleCommand } from './cli/schedule';
import { registerReportCommand } from './cli/report';
import { registerGradeCommand } from './cli/grade';

export function buildProgram(): Command {
  const program = new Command('siri')
    .description(
      'SIRI: RL for reasoning LLMs with interleaved length compression, as durable Temporal workflows',
    )
    .version('0.1.0')
    .exitOverride();
  registerServerCommand(program);
  registerWorkerCommand(program);
  registerDemoCommand(program);
  registerTrainCommand(program);
  registerRunCommands(program);
  registerEvalCommand(program);
  registerExperimentCommand(program);
  registerScheduleCommand(program);
  registerReportCommand(program);
  registerGradeCommand(program);
  return program;
}

/**
 * A reader that stops early (`siri status | head`, `siri schedule | head -3`) closes the pipe; Node then
 * reports EPIPE on the next write. Like any Unix tool killed by SIGPIPE, stop quietly with status 0
 * instead of dying with an unhandled 'error' event and a stack trace.
 */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

async function main(argv: string[]): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its one-line message (or the help text).
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof CliError) {
      console.error(`siri: ${err.message}`);
      process.exitCode = err.exitCode;
      return;
    }
    console.error(`siri: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}

await main(process.argv);
