import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { summarize, type Summary } from './stats.ts';

/** One line of the results table: a set of samples and, for load runs, the throughput. */
export interface Row {
  key: string;
  label: string;
  samples: number[];
  callsPerSecond?: number;
  wallMs?: number;
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const roundSummary = (s: Summary): Summary => ({ count: s.count, median: round(s.median), p99: round(s.p99), mean: round(s.mean), min: round(s.min), max: round(s.max) });

export function machine() {
  const list = cpus();
  return { cpuCount: list.length, cpuModel: list[0]?.model.trim() ?? 'unknown', totalMemoryGiB: round(totalmem() / 2 ** 30, 1), platform: `${process.platform} ${process.arch}` };
}

/** Figures that are not a row of samples: printed after the ratios, stored in the JSON under their own keys. */
export interface Extra {
  lines: string[];
  json: Record<string, unknown>;
}

/** Prints the table, the ratios and the extra lines, and writes everything (summaries, ratios, extras, raw samples) as JSON. */
export function report(rows: Row[], ratios: Record<string, { of: string; over: string }>, meta: Record<string, unknown>, outFile: string, extra: Extra = { lines: [], json: {} }): void {
  const summaries = new Map(rows.map((row) => [row.key, summarize(row.samples)]));
  const width = Math.max(...rows.map((row) => row.label.length));
  const num = (value: number | undefined, digits = 1) => (value === undefined || Number.isNaN(value) ? '' : value.toFixed(digits)).padStart(9);
  console.log('');
  console.log(`${'measurement'.padEnd(width)}  ${'n'.padStart(4)} ${'median ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'mean ms'.padStart(9)} ${'max ms'.padStart(9)} ${'calls/s'.padStart(9)}`);
  console.log('-'.repeat(width + 57));
  for (const row of rows) {
    const s = summaries.get(row.key)!;
    console.log(`${row.label.padEnd(width)}  ${String(s.count).padStart(4)} ${num(s.median)} ${num(s.p99)} ${num(s.mean)} ${num(s.max)} ${num(row.callsPerSecond)}`);
  }

  const ratioFigures: Record<string, number> = {};
  console.log('');
  for (const [name, { of, over }] of Object.entries(ratios)) {
    const value = summaries.get(of)!.median / summaries.get(over)!.median;
    ratioFigures[name] = round(value);
    console.log(`${name.padEnd(24)} ${value.toFixed(2)}  (median ${of} / median ${over})`);
  }
  for (const line of extra.lines) console.log(line);

  const results = Object.fromEntries(
    rows.map((row) => [
      row.key,
      { label: row.label, ...roundSummary(summaries.get(row.key)!), ...(row.callsPerSecond === undefined ? {} : { callsPerSecond: round(row.callsPerSecond), wallMs: round(row.wallMs ?? 0) }) },
    ]),
  );
  const samples = Object.fromEntries(rows.map((row) => [row.key, row.samples.map((value) => round(value))]));
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${JSON.stringify({ ...meta, results, ratios: ratioFigures, ...extra.json, samples }, null, 2)}\n`);
  console.log(`\nfigures written to ${outFile}`);
}
