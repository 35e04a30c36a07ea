import type { MergeReason } from '@silt/merger';
import { segmentCountTarget } from '@silt/merger/internal';
import type { MergeSimulationResult, SegmentCountSample, SimulatedMerge } from './merge-simulation.js';

/** Colours by merge reason (Tableau 10 hues). */
const REASON_COLOURS: Readonly<Record<MergeReason, string>> = {
  tiered: '#4e79a7',
  floor: '#59a14f',
  'space-amplification': '#f28e2b',
  force: '#e15759',
};

const WIDTH = 960;
const LEFT = 70;
const RIGHT = 930;
const COUNT_TOP = 70;
const COUNT_BOTTOM = 250;
const MERGE_TOP = 285;
const MERGE_BOTTOM = 505;

/**
 * The simulation as a picture, in the manner of Mike McCandless's Lucene merge
 * videos: on top the live segment count over time against the cap; below, each
 * merge as a box spanning its running time (x) and the writes its run covers
 * (y, oldest at the bottom), so a tall wide box is a big merge of old data.
 * Hand-written SVG, no dependency.
 */
export function renderSimulationSvg(result: MergeSimulationResult): string {
  const { summary, options } = result;
  const endSeconds = Math.max(summary.drainedSeconds, 1e-9);
  const x = (seconds: number): number => LEFT + (seconds / endSeconds) * (RIGHT - LEFT);
  const countMax = Math.max(options.policy.segmentCap, summary.maxSegments) + 2;
  const yCount = (segments: number): number => COUNT_BOTTOM - (segments / countMax) * (COUNT_BOTTOM - COUNT_TOP);
  const ySequence = (sequence: number): number => MERGE_BOTTOM - (sequence / summary.writes) * (MERGE_BOTTOM - MERGE_TOP);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="590" viewBox="0 0 ${WIDTH} 590" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="590" fill="#fff"/>`,
    ...heading(result),
    ...countPanel(result, x, yCount, countMax),
    ...mergePanel(result.merges, x, ySequence, summary.writes),
    ...timeAxis(result.samples, endSeconds, x),
    ...legend(),
    '</svg>',
  ];
  return `${parts.join('\n')}\n`;
}

function heading({ summary, options }: MergeSimulationResult): string[] {
  const threads = `${options.mergeThreads} merge thread${options.mergeThreads === 1 ? '' : 's'}`;
  const title =
    `${formatCount(summary.writes)} writes at ${formatCount(options.writesPerSecond)}/s, flushes of ~${formatCount(summary.meanFlushEntries)} entries, ` +
    `${threads} at ${formatBytes(options.mergeBytesPerSecond)}/s`;
  const figures =
    `write amplification ${summary.writeAmplification.toFixed(2)} · segments max ${summary.maxSegments}, mean ${summary.meanSegments.toFixed(1)} · ` +
    `${summary.merges} merges, largest ${formatBytes(summary.largestMergeBytesRead)} (${summary.largestMergeSegments} segments) · writers stalled ${summary.stalledSeconds.toFixed(0)} s`;
  return [text(LEFT, 22, title, 'font-size="14" font-weight="bold"'), text(LEFT, 42, figures, 'font-size="12"')];
}

function countPanel(
  { samples, options }: MergeSimulationResult,
  x: (seconds: number) => number,
  y: (segments: number) => number,
  countMax: number,
): string[] {
  const cap = options.policy.segmentCap;
  const target = segmentCountTarget(options.policy);
  const parts = [text(LEFT - 55, COUNT_TOP - 8, 'live segments', 'font-weight="bold"')];
  for (const tick of niceTicks(countMax, 5)) {
    parts.push(line(LEFT, y(tick), RIGHT, y(tick), '#eee'), text(LEFT - 6, y(tick) + 4, String(tick), 'text-anchor="end"'));
  }
  parts.push(
    line(LEFT, y(cap), RIGHT, y(cap), '#e15759', 'stroke-dasharray="6 4"'),
    text(LEFT + 4, y(cap) - 4, `segmentCap ${cap}: writers slowed`, 'fill="#e15759"'),
    line(LEFT, y(target), RIGHT, y(target), '#999', 'stroke-dasharray="3 3"'),
    text(LEFT + 4, y(target) - 4, `target ${target}: count-reducing merges`, 'fill="#777"'),
    `<path d="${stepPath(samples, x, y)}" fill="none" stroke="#333" stroke-width="1"/>`,
    line(LEFT, COUNT_BOTTOM, RIGHT, COUNT_BOTTOM, '#333'),
  );
  return parts;
}

/** Steps of the count, one per half pixel at most (the highest count in it), so long runs stay small files. */
function stepPath(samples: readonly SegmentCountSample[], x: (seconds: number) => number, y: (segments: number) => number): string {
  const columns: { x: number; segments: number }[] = [];
  for (const sample of samples) {
    const column = Math.round(x(sample.seconds) * 2) / 2;
    const last = columns.at(-1);
    if (last !== undefined && last.x === column) last.segments = Math.max(last.segments, sample.segments);
    else columns.push({ x: column, segments: sample.segments });
  }
  const [first, ...rest] = columns;
  if (first === undefined) return '';
  return [
    `M${first.x} ${round(y(first.segments))}`,
    ...rest.map((column) => `H${column.x}V${round(y(column.segments))}`),
    `H${RIGHT}`,
  ].join('');
}

function mergePanel(
  merges: readonly SimulatedMerge[],
  x: (seconds: number) => number,
  y: (sequence: number) => number,
  writes: number,
): string[] {
  const parts = [text(LEFT - 55, MERGE_TOP - 10, 'merges: running time × writes covered (oldest at the bottom)', 'font-weight="bold"')];
  for (const tick of niceTicks(writes, 4)) {
    parts.push(line(LEFT, y(tick), RIGHT, y(tick), '#eee'), text(LEFT - 6, y(tick) + 4, formatCount(tick), 'text-anchor="end"'));
  }
  for (const merge of merges) {
    const left = x(merge.startSeconds);
    const top = y(merge.maxSequence);
    const width = Math.max(x(merge.endSeconds) - left, 0.8);
    const height = Math.max(y(merge.minSequence - 1) - top, 0.8);
    parts.push(
      `<rect x="${round(left)}" y="${round(top)}" width="${round(width)}" height="${round(height)}" fill="${REASON_COLOURS[merge.reason]}" fill-opacity="0.55" stroke="${REASON_COLOURS[merge.reason]}" stroke-width="0.5"/>`,
    );
  }
  parts.push(line(LEFT, MERGE_BOTTOM, RIGHT, MERGE_BOTTOM, '#333'));
  return parts;
}

function timeAxis(samples: readonly SegmentCountSample[], endSeconds: number, x: (seconds: number) => number): string[] {
  const unit =
    endSeconds >= 3 * 3600 ? { name: 'h', seconds: 3600 } : endSeconds >= 180 ? { name: 'min', seconds: 60 } : { name: 's', seconds: 1 };
  const parts: string[] = [];
  for (const tick of niceTicks(endSeconds / unit.seconds, 8)) {
    const seconds = tick * unit.seconds;
    parts.push(
      line(x(seconds), MERGE_BOTTOM, x(seconds), MERGE_BOTTOM + 4, '#333'),
      text(x(seconds), MERGE_BOTTOM + 16, `${tick} ${unit.name}`, 'text-anchor="middle"'),
      text(x(seconds), MERGE_BOTTOM + 29, `${formatCount(writesAt(samples, seconds))} writes`, 'text-anchor="middle" fill="#777"'),
    );
  }
  return parts;
}

function legend(): string[] {
  return Object.entries(REASON_COLOURS).flatMap(([reason, colour], index) => {
    const left = LEFT + index * 170;
    return [
      `<rect x="${left}" y="560" width="12" height="12" fill="${colour}" fill-opacity="0.55" stroke="${colour}"/>`,
      text(left + 18, 570, reason),
    ];
  });
}

/** Writes flushed by `seconds`: the last sample at or before it. */
function writesAt(samples: readonly SegmentCountSample[], seconds: number): number {
  let low = 0;
  let high = samples.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if ((samples[middle]?.seconds ?? Infinity) <= seconds) low = middle;
    else high = middle - 1;
  }
  return samples[low]?.writes ?? 0;
}

/** Round tick values (1, 2 or 5 times a power of ten apart) from 0 to at most `max`. */
function niceTicks(max: number, about: number): number[] {
  if (!(max > 0)) return [0];
  const rough = max / about;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let tick = 0; tick <= max + 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

export function formatCount(value: number): string {
  if (value >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (value >= 1e3) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(Math.round(value));
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${Math.round(bytes)} B`;
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string, extra = ''): string {
  return `<line x1="${round(x1)}" y1="${round(y1)}" x2="${round(x2)}" y2="${round(y2)}" stroke="${stroke}" ${extra}/>`;
}

function text(x: number, y: number, content: string, extra = ''): string {
  return `<text x="${round(x)}" y="${round(y)}" ${extra}>${escapeXml(content)}</text>`;
}

function escapeXml(content: string): string {
  return content.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
