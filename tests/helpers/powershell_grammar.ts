/**
 * A real PowerShell grammar (tree-sitter-powershell) for tests that check PowerShell the
 * agent runs on Windows, which cannot run here: loading it, and finding syntax errors.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Language, type Node, Parser } from "web-tree-sitter";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/**
 * A parser for PowerShell. The grammar's `.wasm` ships inside the npm package, whose only
 * JavaScript entry point loads a native addon: rather than importing it, `deno info` tells
 * where the pinned version sits in Deno's cache (downloading it when missing).
 */
export async function loadPowerShell(): Promise<Parser> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "tree-sitter-powershell"],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(info.stderr);
  assert.ok(info.success, `deno info tree-sitter-powershell failed: ${stderr}`);
  const packages: Record<string, { name: string; localPath: string }> =
    JSON.parse(new TextDecoder().decode(info.stdout)).npmPackages;
  const grammar = Object.values(packages).find((p) => p.name === "tree-sitter-powershell");
  assert.ok(grammar, "tree-sitter-powershell is not among deno.json's packages");
  await Parser.init();
  const parser = new Parser();
  parser.setLanguage(await Language.load(`${grammar.localPath}/tree-sitter-powershell.wasm`));
  return parser;
}

/** Every node below `root`, depth first. */
function* walk(root: Node): Generator<Node> {
  yield root;
  for (const child of root.children) {
    if (child) yield* walk(child);
  }
}

/** `line:column` (1-based) and a description of the first ERROR or MISSING node, or null. */
export function firstSyntaxError(root: Node): string | null {
  for (const node of walk(root)) {
    if (node.isError || node.isMissing) {
      const { row, column } = node.startPosition;
      const what = node.isMissing
        ? `missing ${node.type}`
        : `cannot parse ${JSON.stringify(node.text.slice(0, 60))}`;
      return `${row + 1}:${column + 1}: ${what}`;
    }
  }
  return null;
}
