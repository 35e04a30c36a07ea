import { InvalidArgumentError, type Command } from 'commander';
import type { RangeOptions } from 'silt';

/**
 * A parser for a whole-number option in [min, max]. Accepts `1000000`,
 * `1_000_000`, `1,000,000` and `1e6`; anything else is a clear usage error.
 */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const cleaned = text.trim().replace(/[_,]/g, '');
    // Decimal digits with an optional exponent: Number() alone would take hex, binary and whitespace.
    const value = /^\d+(\.\d+)?(e\+?\d+)?$/i.test(cleaned) ? Number(cleaned) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`expected a whole number ${range}.`);
    }
    return value;
  };
}

/** The range options of `scan` and `export`, as the CLI parses them. */
export interface RangeFlags {
  readonly prefix?: string;
  readonly gte?: string;
  readonly gt?: string;
  readonly lte?: string;
  readonly lt?: string;
  readonly limit?: number;
  readonly reverse?: boolean;
}

/** The key bounds of `scan`, `export` and `watch --changes`, as the CLI parses them. */
export type KeyBoundFlags = Pick<RangeFlags, 'prefix' | 'gte' | 'gt' | 'lte' | 'lt'>;

/** `--prefix`, `--gte`/`--gt`, `--lte`/`--lt`: which keys a command reads or follows. */
export function addKeyBoundOptions(command: Command): Command {
  return command
    .option('--prefix <prefix>', 'only keys that start with this')
    .option('--gte <key>', 'keys at or after this one')
    .option('--gt <key>', 'keys after this one')
    .option('--lte <key>', 'keys at or before this one')
    .option('--lt <key>', 'keys before this one');
}

export function addRangeOptions(command: Command): Command {
  return addKeyBoundOptions(command)
    .option('--limit <n>', 'at most this many entries', wholeNumber(0))
    .option('--reverse', 'descending key order');
}

/** The key bounds given, without the ones left out (silt refuses both --gte and --gt, say, in its own words). */
export function keyBoundsOf(flags: KeyBoundFlags): KeyBoundFlags {
  const { prefix, gte, gt, lte, lt } = flags;
  return withoutUndefined({ prefix, gte, gt, lte, lt });
}

/** The flags as `range()` options; silt's own checks (both --gte and --gt, say) report what is wrong. */
export function rangeOptionsOf(flags: RangeFlags): RangeOptions {
  const { limit, reverse } = flags;
  return { ...keyBoundsOf(flags), ...withoutUndefined({ limit, reverse }) };
}

function withoutUndefined<T extends object>(given: T): T {
  return Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as T;
}
