// A user-facing CLI error: printed as one line (no stack trace) and mapped to a non-zero exit code.
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
