#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SiltError } from '@silt/fs';
import { DEFAULT_MERGE_POLICY, type MergePolicyOptions } from '@silt/merger';
import { DEFAULT_MERGE_SIMULATION, simulateMerges, type MergeSimulationOptions, type MergeSimulationResult } from '../merge-simulation.js';
import { formatBytes, formatCount, renderSimulationSvg } from '../merge-simulation-chart.js';

/** Command-line flags, each a number option of the simulation or of the policy. */
const SIMULATION_FLAGS = {
  writes: 'writes',
  'write-rate': 'writesPerSecond',
  'flush-entries': 'flushEntries',
  'refresh-ms': 'refreshIntervalMs',
  'memtable-bytes': 'memtableBytes',
  'key-bytes': 'keyBytes',
  'value-bytes': 'valueBytes',
  'key-space': 'keySpace',
  deletes: 'deleteShare',
  burstiness: 'burstiness',
  'merge-threads': 'mergeThreads',
  seed: 'seed',
} as const satisfies Record<string, keyof MergeSimulationOptions>;

const POLICY_FLAGS = {
  'max-segments-per-merge': 'maxSegmentsPerMerge',
  'floor-bytes': 'floorBytes',
  'size-ratio': 'sizeRatio',
  'min-run-length': 'minRunLength',
  'max-space-amplification': 'maxSpaceAmplification',
  'segment-cap': 'segmentCap',
} as const satisfies Record<string, keyof MergePolicyOptions>;

const USAGE = `usage: simulate [--writes N] [--write-rate N] [--flush-entries N] [--merge-threads N] [--merge-mb-per-s N] [--svg path] [...]

Feeds the silt merge policy a synthetic stream of flushes and prints segment
count over time, write amplification and the largest merge.

stream:  --writes ${DEFAULT_MERGE_SIMULATION.writes}  --write-rate ${DEFAULT_MERGE_SIMULATION.writesPerSecond} (writes/s)
         --flush-entries (default: one refresh's writes, capped by the memtable)
         --refresh-ms ${DEFAULT_MERGE_SIMULATION.refreshIntervalMs}  --memtable-bytes ${DEFAULT_MERGE_SIMULATION.memtableBytes}
         --key-bytes ${DEFAULT_MERGE_SIMULATION.keyBytes}  --value-bytes ${DEFAULT_MERGE_SIMULATION.valueBytes}  --key-space ${DEFAULT_MERGE_SIMULATION.keySpace}
         --deletes ${DEFAULT_MERGE_SIMULATION.deleteShare}  --burstiness ${DEFAULT_MERGE_SIMULATION.burstiness}  --seed ${DEFAULT_MERGE_SIMULATION.seed}
merging: --merge-threads ${DEFAULT_MERGE_SIMULATION.mergeThreads}  --merge-mb-per-s ${DEFAULT_MERGE_SIMULATION.mergeBytesPerSecond / 1e6}
policy:  --max-segments-per-merge ${DEFAULT_MERGE_POLICY.maxSegmentsPerMerge}  --floor-bytes ${DEFAULT_MERGE_POLICY.floorBytes}  --size-ratio ${DEFAULT_MERGE_POLICY.sizeRatio}
         --min-run-length ${DEFAULT_MERGE_POLICY.minRunLength}  --max-space-amplification ${DEFAULT_MERGE_POLICY.maxSpaceAmplification}  --segment-cap ${DEFAULT_MERGE_POLICY.segmentCap}
output:  --svg path (draw the run)  --json (print the summary as JSON)`;

function main(argv: readonly string[]): number {
  const numberFlags = [...Object.keys(SIMULATION_FLAGS), ...Object.keys(POLICY_FLAGS), 'merge-mb-per-s'];
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries(numberFlags.map((flag) => [flag, { type: 'string' as const }])),
      svg: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const number = (flag: string): number | undefined => {
    const raw: unknown = (values as Record<string, unknown>)[flag];
    return typeof raw === 'string' ? Number(raw.replaceAll('_', '')) : undefined;
  };
  const overrides: Partial<Mutable<MergeSimulationOptions>> = {};
  for (const [flag, field] of entries(SIMULATION_FLAGS)) {
    const value = number(flag);
    if (value !== undefined) overrides[field] = value;
  }
  const policy: Mutable<MergePolicyOptions> = { ...DEFAULT_MERGE_POLICY };
  for (const [flag, field] of entries(POLICY_FLAGS)) {
    const value = number(flag);
    if (value !== undefined) policy[field] = value;
  }
  const megabytesPerSecond = number('merge-mb-per-s');
  if (megabytesPerSecond !== undefined) overrides.mergeBytesPerSecond = megabytesPerSecond * 1e6;

  const result = simulateMerges({ ...overrides, policy });
  console.log(values.json === true ? JSON.stringify(result.summary, null, 2) : table(result));
  if (typeof values.svg === 'string') {
    writeFileSync(values.svg, renderSimulationSvg(result));
    console.error(`wrote ${values.svg}`);
  }
  return 0;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function entries<K extends string, V>(record: Record<K, V>): [K, V][] {
  return Object.entries(record) as [K, V][];
}

function table({ summary, options }: MergeSimulationResult): string {
  const { policy } = options;
  const rows: [string, string][] = [
    [
      'stream',
      `${formatCount(summary.writes)} writes of ${options.keyBytes} B keys + ${options.valueBytes} B values at ${formatCount(options.writesPerSecond)}/s over ${formatCount(options.keySpace)} keys, ${options.deleteShare * 100} % deletes`,
    ],
    ['flushes', `${summary.flushes}, ~${formatCount(summary.meanFlushEntries)} entries each (±${options.burstiness * 100} %)`],
    ['merging', `${options.mergeThreads} thread(s) at ${formatBytes(options.mergeBytesPerSecond)}/s read`],
    [
      'policy',
      `maxSegmentsPerMerge ${policy.maxSegmentsPerMerge}, floorBytes ${formatBytes(policy.floorBytes)}, sizeRatio ${policy.sizeRatio}, minRunLength ${policy.minRunLength}, ` +
        `maxSpaceAmplification ${policy.maxSpaceAmplification}, segmentCap ${policy.segmentCap}`,
    ],
    [
      'write amplification',
      `${summary.writeAmplification.toFixed(2)} (flushed ${formatBytes(summary.bytesFlushed)}, merged ${formatBytes(summary.bytesMerged)})`,
    ],
    [
      'segments',
      `max ${summary.maxSegments}, mean ${summary.meanSegments.toFixed(1)} while writing, ${summary.finalSegments} at the end (${formatBytes(summary.finalBytes)})`,
    ],
    [
      'merges',
      `${summary.merges} (${Object.entries(summary.mergesByReason)
        .filter(([, count]) => count > 0)
        .map(([reason, count]) => `${reason} ${count}`)
        .join(', ')})`,
    ],
    [
      'space amplification',
      `mean ${summary.meanSpaceAmplification.toFixed(2)}, max ${summary.maxSpaceAmplification.toFixed(2)} (live bytes / the same writes merged into one segment)`,
    ],
    ['largest merge', `${formatBytes(summary.largestMergeBytesRead)} read from ${summary.largestMergeSegments} segments`],
    [
      'time',
      `writes done at ${summary.writeSeconds.toFixed(0)} s, merges drained at ${summary.drainedSeconds.toFixed(0)} s, writers stalled ${summary.stalledSeconds.toFixed(0)} s`,
    ],
  ];
  return ['| measure | value |', '|---|---|', ...rows.map(([measure, value]) => `| ${measure} | ${value} |`)].join('\n');
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (error instanceof SiltError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    console.error(`simulate: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
