// Flags for the command-line tools: node's parseArgs, plus what a person expects of a CLI —
// `--help` prints the usage, and an unknown or malformed flag is one line (then the usage), never
// a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags<const T extends Options>(options: T, usage: string, argv = process.argv.slice(2)): ReturnType<typeof parseArgs<{ options: T }>>['values'] {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
}

/**
 * parseFlags for a command that also takes positional arguments (`npm test -- 03 --seed 7`):
 * the same `--help` and the same one-line error, then the usage, for an unknown or malformed flag.
 */
export function parseCommand<const T extends Options>(options: T, usage: string, argv = process.argv.slice(2)): ReturnType<typeof parseArgs<{ options: T; allowPositionals: true }>> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: true });
  } catch (err) {
    // Node's advice on passing "-x" as a positional is noise here: the flag was mistyped.
    console.error(`${(err as Error).message.replace(/\. To specify a positional argument[^]*$/, '.')}\n\n${usage}`);
    process.exit(2);
  }
}

/** The integer a flag holds; a value that is not one from min to max is one line and exit code 2. */
export function integerFlag(name: string, value: string | boolean | undefined, min: number, max: number): number {
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer from ${min} to ${max}, got "${String(value)}"`);
    process.exit(2);
  }
  return n;
}
