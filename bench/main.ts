/**
 * `deno task bench`: runs every benchmark and prints its figures beside their targets.
 *
 * @module
 */
import { type Figure, ingestBenchmark } from "./ingest.ts";

function print(title: string, figures: Figure[]): void {
  console.log(`\n${title}`);
  for (const f of figures) {
    const value = `${f.value.toFixed(1)} ${f.unit}`.padStart(12);
    const target = f.target === undefined
      ? ""
      : `  target < ${f.target} ${f.unit}  ${f.value < f.target ? "ok" : "MISSED"}`;
    console.log(`  ${f.name.padEnd(52)} ${value}${target}`);
  }
}

print("Ingest (master on SQLite, over HTTP)", await ingestBenchmark());
