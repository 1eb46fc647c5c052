/**
 * `.github/workflows/windows-agent.yml`, checked here since no Windows runner is at hand:
 * valid YAML with the structure GitHub Actions requires ("Workflow syntax for GitHub
 * Actions", https://docs.github.com/actions/writing-workflows/workflow-syntax-for-github-actions),
 * on windows-latest, installing the project's Deno, building agent.exe with the task of
 * deno.json that does so, keeping that very file, and calling only tasks that exist.
 * Deliberately broken workflows show that the check fails when it should.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";

const WORKFLOW_PATH = ".github/workflows/windows-agent.yml";
const WORKFLOW_URL = new URL(`../../${WORKFLOW_PATH}`, import.meta.url);
const DENO_JSON_URL = new URL("../../deno.json", import.meta.url);
const CI_RUN_URL = new URL("../../.ci/run", import.meta.url);

/** What the workflow is checked against. */
interface Project {
  /** deno.json's tasks. */
  tasks: Record<string, string>;
  /** The Deno version .ci/run installs. */
  denoVersion: string;
}

/** The folders whose changes must start the workflow. */
const WATCHED = ["agent/**", "shared/**", "tests/windows/**", WORKFLOW_PATH];
/** The only actions it may use, each pinned to a major version. */
const ACTION = /^actions\/(checkout|upload-artifact)@v\d+$/;
/** The test task this workflow exists to run, and what it must be. */
const TEST_TASK = "test:windows";
const TEST_COMMAND = "deno test --allow-all tests/windows/";

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function project(): Promise<Project> {
  const tasks = JSON.parse(await Deno.readTextFile(DENO_JSON_URL)).tasks;
  const denoVersion = (await Deno.readTextFile(CI_RUN_URL)).match(/^DENO_VERSION=(\S+)$/m)?.[1];
  assert.ok(denoVersion, ".ci/run sets no DENO_VERSION");
  return { tasks, denoVersion };
}

/** The task of deno.json that compiles the agent for Windows, and the file it writes. */
function windowsCompileTask(tasks: Record<string, string>): { name: string; output: string } {
  const found = Object.entries(tasks).filter(([, command]) =>
    /^deno compile\b/.test(command) && command.includes("--target x86_64-pc-windows-msvc")
  );
  assert.equal(found.length, 1, "deno.json should have one task compiling for Windows");
  const [name, command] = found[0];
  const output = command.match(/--output[ =](\S+)/)?.[1];
  assert.ok(output, `task ${name} names no --output`);
  return { name, output };
}

/** Everything wrong with the workflow `text`; none when it is fine. */
function workflowProblems(text: string, { tasks, denoVersion }: Project): string[] {
  let workflow: unknown;
  try {
    workflow = parse(text);
  } catch (error) {
    return [`not valid YAML: ${(error as Error).message}`];
  }
  if (!isMapping(workflow)) return ["the workflow is not a mapping"];
  const problems: string[] = [];

  // The `on` key is the string "on" in YAML 1.2, which both GitHub and npm:yaml follow.
  const on = workflow.on;
  if (!isMapping(on)) {
    problems.push("`on` is missing or not a mapping");
  } else {
    for (const event of ["push", "pull_request"]) {
      const paths = isMapping(on[event]) ? (on[event] as Mapping).paths : undefined;
      const missing = WATCHED.filter((p) => !(Array.isArray(paths) && paths.includes(p)));
      if (missing.length > 0) problems.push(`on.${event}.paths lacks ${missing.join(", ")}`);
    }
    if (!("workflow_dispatch" in on)) problems.push("on.workflow_dispatch is missing");
  }

  const jobs = workflow.jobs;
  if (!isMapping(jobs) || Object.keys(jobs).length === 0) {
    return [...problems, "`jobs` is missing, empty or not a mapping"];
  }
  const compile = windowsCompileTask(tasks);
  const runs: string[] = [];
  const uploads: unknown[] = [];
  for (const [id, job] of Object.entries(jobs)) {
    if (!isMapping(job)) {
      problems.push(`jobs.${id} is not a mapping`);
      continue;
    }
    if (job["runs-on"] !== "windows-latest") {
      problems.push(`jobs.${id}.runs-on is ${JSON.stringify(job["runs-on"])}, not windows-latest`);
    }
    const steps = job.steps;
    if (!Array.isArray(steps) || steps.length === 0) {
      problems.push(`jobs.${id}.steps is missing or empty`);
      continue;
    }
    const defaultShell = [job, workflow].map((m) => m.defaults)
      .map((d) => isMapping(d) && isMapping(d.run) ? d.run.shell : undefined)
      .find((shell) => shell !== undefined);
    steps.forEach((step: unknown, i) => {
      const where = `jobs.${id}.steps[${i}]`;
      if (!isMapping(step)) {
        problems.push(`${where} is not a mapping`);
        return;
      }
      const hasRun = typeof step.run === "string";
      const hasUses = typeof step.uses === "string";
      if (hasRun === hasUses) {
        problems.push(`${where} needs exactly one of \`run\` and \`uses\``);
        return;
      }
      if (hasUses) {
        if (!ACTION.test(step.uses as string)) {
          problems.push(
            `${where} uses ${step.uses}: only actions/checkout and ` +
              "actions/upload-artifact, pinned to a major version",
          );
        }
        if ((step.uses as string).startsWith("actions/upload-artifact@")) uploads.push(step.with);
        return;
      }
      // Chosen on purpose: Windows PowerShell 5.1 and PowerShell 7 differ.
      const shell = step.shell ?? defaultShell;
      if (shell !== "pwsh" && shell !== "powershell") {
        problems.push(`${where} runs in ${JSON.stringify(shell)}, not pwsh or powershell`);
      }
      runs.push(step.run as string);
    });
  }

  const script = runs.join("\n");
  if (!script.includes(`npm install -g deno@${denoVersion}`)) {
    problems.push(`no step installs Deno ${denoVersion} with npm, as .ci/run does`);
  }
  const called = [...script.matchAll(/\bdeno task ([\w:.-]+)/g)].map((m) => m[1]);
  for (const name of called.filter((name) => !(name in tasks))) {
    problems.push(`it runs \`deno task ${name}\`, which deno.json does not have`);
  }
  for (const name of [compile.name, TEST_TASK]) {
    if (!called.includes(name)) problems.push(`it never runs \`deno task ${name}\``);
  }
  if (tasks[TEST_TASK] !== TEST_COMMAND) {
    problems.push(`deno.json's ${TEST_TASK} is ${JSON.stringify(tasks[TEST_TASK])}`);
  }
  if (!/dist[\\/]agent\.exe --help\b/.test(script)) problems.push("agent.exe --help never runs");
  if (!uploads.some((w) => isMapping(w) && w.path === compile.output)) {
    problems.push(`no upload-artifact step keeps ${compile.output}, what ${compile.name} writes`);
  }
  return problems;
}

/** The workflow parsed, changed by `change`, and written back as YAML. */
function edited(text: string, change: (workflow: Mapping) => void): string {
  const workflow = parse(text) as Mapping;
  change(workflow);
  return stringify(workflow);
}

/** The first job of `workflow`. */
function firstJob(workflow: Mapping): Mapping {
  return Object.values(workflow.jobs as Mapping)[0] as Mapping;
}

Deno.test("the Windows workflow is valid and runs the compile task, test:windows and agent.exe", async () => {
  const problems = workflowProblems(await Deno.readTextFile(WORKFLOW_URL), await project());
  assert.deepEqual(problems, []);
});

Deno.test("the workflow check fails on broken workflows", async (t) => {
  const text = await Deno.readTextFile(WORKFLOW_URL);
  const proj = await project();
  const broken: Record<string, string> = {
    "YAML that does not parse": "on: [push\njobs:\n  a: {",
    "a duplicated key": text.replace("permissions:", "jobs: {}\npermissions:"),
    "no jobs": "on: push\n",
    "a Linux runner": text.replace("runs-on: windows-latest", "runs-on: ubuntu-latest"),
    "a step with neither run nor uses": edited(text, (w) => {
      (firstJob(w).steps as Mapping[]).push({ name: "nothing" });
    }),
    "a step with both run and uses": edited(text, (w) => {
      (firstJob(w).steps as Mapping[])[0].run = "dir";
    }),
    "a third-party action": edited(text, (w) => {
      (firstJob(w).steps as Mapping[]).unshift({ uses: "denoland/setup-deno@v2" });
    }),
    "a task deno.json lacks": text.replace("deno task test:windows", "deno task test:win"),
    "no compile step": edited(text, (w) => {
      const job = firstJob(w);
      job.steps = (job.steps as Mapping[]).filter((s) =>
        !String(s.run).includes("compile:agent-windows")
      );
    }),
    "another Deno version": text.replaceAll("deno@2.9.6", "deno@2.0.0"),
    "cmd as the shell": edited(text, (w) => {
      firstJob(w).defaults = { run: { shell: "cmd" } };
    }),
    "an artifact that is not agent.exe": text.replace("path: dist/agent.exe", "path: dist/"),
    "no agent.exe --help": text.replaceAll("--help", "--version"),
    "a path filter less": text.replace('      - "tests/windows/**"\n', ""),
  };
  for (const [what, variant] of Object.entries(broken)) {
    await t.step(what, () => {
      assert.notEqual(variant, text, "the variant changed nothing");
      assert.notDeepEqual(workflowProblems(variant, proj), []);
    });
  }
  await t.step("a test:windows task that runs something else", () => {
    const tasks = { ...proj.tasks, [TEST_TASK]: "deno test --allow-all" };
    assert.notDeepEqual(workflowProblems(text, { ...proj, tasks }), []);
  });
});
