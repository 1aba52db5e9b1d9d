import { fileError } from '../core/files.js';

/** Where commands write: injectable so tests can run the CLI in-process and capture its output. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is an interactive terminal (progress lines are shown only then). */
  errIsTTY: boolean;
}

/**
 * Writes to a standard stream; a stream that cannot take the text (stdout redirected to a full disk) is an
 * error of the environment, reported in one line.
 */
function write(stream: NodeJS.WriteStream, name: string, text: string): void {
  try {
    stream.write(text);
  } catch (error) {
    throw fileError(`cannot write to ${name}`, error);
  }
}

export const processIO: CliIO = {
  out: (text) => write(process.stdout, 'the standard output', text),
  err: (text) => write(process.stderr, 'the standard error', text),
  errIsTTY: Boolean(process.stderr.isTTY),
};

/**
 * Quiet ends for asynchronous stream errors: a reader that closed the pipe early (`topdown ... | head -1`) ends
 * the command as it would end any Unix tool; other errors get one line and exit code 3.
 */
export function handleStreamErrors(): void {
  for (const [stream, name] of [
    [process.stdout, 'the standard output'],
    [process.stderr, 'the standard error'],
  ] as const) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      if (stream !== process.stderr) {
        try {
          process.stderr.write(`topdown: ${fileError(`cannot write to ${name}`, error).message}\n`);
        } catch {
          // nowhere left to say it
        }
      }
      process.exit(3);
    });
  }
}
