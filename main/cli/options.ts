/**
 * Command-line option tables and their parser (node:util parseArgs underneath). Each command is
 * a table of options — name, type, value name, help, allowed values — from which both the
 * parser and the `--help` text are made, so a new flag is one row.
 */
import { parseArgs } from 'node:util';

/** One option of a command. */
export interface OptionSpec {
  /** Long name, without the dashes. */
  name: string;
  /** One-letter alias. */
  short?: string;
  type: 'string' | 'boolean';
  /** What the value is, for the help (FILE, DIR, HOST:PORT...). */
  value?: string;
  help: string;
  /** The allowed values of a string option. */
  choices?: readonly string[];
  /** The value when the option is absent (shown in the help). */
  default?: string;
}

/** A command: its name, a summary line, what its positionals are, and its options. */
export interface CommandSpec {
  name: string;
  summary: string;
  /** e.g. "URL..." */
  positionals: string;
  /** At least this many positionals. */
  minPositionals: number;
  /** At most this many (default unlimited). */
  maxPositionals?: number;
  options: readonly OptionSpec[];
  /** Extra lines after the options (examples, notes). */
  notes?: readonly string[];
}

/** A usage mistake: the CLI prints it with a hint and exits with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The command whose --help to point at, if any. */
    readonly command: string | null = null,
  ) {
    super(message);
  }
}

/** Parsed options: strings and booleans by long name. */
export interface ParsedCommand {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Every command gets --help. */
export const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', type: 'boolean', help: 'show this help' };

/** Parses `args` for `spec`; raises UsageError for an unknown option, a bad value or a missing argument. */
export function parseCommand(spec: CommandSpec, args: readonly string[]): ParsedCommand {
  const table: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const o of [...spec.options, HELP_OPTION]) {
    table[o.name] = o.short === undefined ? { type: o.type } : { type: o.type, short: o.short };
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: table,
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(msg, spec.name);
  }
  const values = parsed.values;
  if (values.help === true) return { values, positionals: parsed.positionals };
  for (const o of spec.options) {
    const v = values[o.name];
    if (v === undefined) {
      if (o.default !== undefined) values[o.name] = o.type === 'boolean' ? o.default === 'true' : o.default;
      continue;
    }
    if (typeof v === 'string' && o.choices !== undefined && !o.choices.includes(v))
      throw new UsageError(`--${o.name} must be one of ${o.choices.join(', ')} (got '${v}')`, spec.name);
  }
  const n = parsed.positionals.length;
  if (n < spec.minPositionals) throw new UsageError(`missing ${spec.positionals}`, spec.name);
  if (spec.maxPositionals !== undefined && n > spec.maxPositionals)
    throw new UsageError(`unexpected argument '${parsed.positionals[spec.maxPositionals]}'`, spec.name);
  return { values, positionals: parsed.positionals };
}

/** The help text of a command, made from its table. */
export function commandHelp(program: string, spec: CommandSpec): string {
  const lines = [
    `usage: ${program} ${spec.name} [options] ${spec.positionals}`.trimEnd(),
    '',
    spec.summary,
    '',
  ];
  lines.push('options:');
  const rows = [...spec.options, HELP_OPTION].map((o) => {
    const flag = `${o.short !== undefined ? `-${o.short}, ` : '    '}--${o.name}${o.value !== undefined ? ` ${o.value}` : ''}`;
    let help = o.help;
    if (o.choices !== undefined && o.value === undefined) help += ` (${o.choices.join('|')})`;
    if (o.default !== undefined) help += ` [default: ${o.default}]`;
    return [flag, help] as const;
  });
  const width = Math.min(34, Math.max(...rows.map(([f]) => f.length)) + 2);
  for (const [flag, help] of rows) {
    lines.push(
      flag.length + 2 > width ? `  ${flag}\n  ${' '.repeat(width)}${help}` : `  ${flag.padEnd(width)}${help}`,
    );
  }
  if (spec.notes !== undefined && spec.notes.length > 0) lines.push('', ...spec.notes);
  return lines.join('\n') + '\n';
}

/** A string option's value (undefined when absent). */
export function str(p: ParsedCommand, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A boolean option's value. */
export function flag(p: ParsedCommand, name: string): boolean {
  return p.values[name] === true;
}

/** A positive integer option (undefined when absent). */
export function int(p: ParsedCommand, name: string, command: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} takes a whole number (got '${v}')`, command);
  return Number(v);
}
