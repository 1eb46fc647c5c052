/**
 * The Task Scheduler definition of the agent's task, as XML for `Register-ScheduledTask
 * -Xml`. The cmdlets' own settings objects cannot ask for everything at once (a restart on
 * failure, no time limit, running on battery, a repeating logon trigger), so the task is
 * written out in full.
 *
 * @module
 */
import type { AgentLaunch } from "./launch.ts";

/** What the task runs, and for whom. */
export interface TaskDefinition {
  /** The Windows account (`DOMAIN\user`) whose logon starts the task and who runs it. */
  userId: string;
  /** The agent and its arguments. */
  launch: AgentLaunch;
}

/** `text` safe inside an XML element or attribute. */
function xmlText(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/**
 * One argument quoted for a Windows command line, by the rules programs use to split it
 * (CommandLineToArgvW): quotes around it when it has blanks or quotes, a backslash before
 * each quote inside, and backslashes doubled where a quote follows them.
 */
export function windowsArgument(arg: string): string {
  if (arg !== "" && !/[\s"]/.test(arg)) return arg;
  const escaped = arg
    .replace(/(\\*)"/g, (_, slashes: string) => `${slashes}${slashes}\\"`)
    .replace(/(\\+)$/, "$1$1");
  return `"${escaped}"`;
}

/**
 * The task's XML. It starts at the user's logon and runs only while the user is logged
 * on (Outlook's COM objects exist only in the user's session), with the user's own rights
 * and no time limit. Should the agent ever end, Task Scheduler restarts it: after a
 * failure every minute (up to 255 times, the most the schema's `Count` takes), and, since
 * its restart-on-failure covers a failed launch rather than a process that exits, the
 * logon trigger repeats every five minutes too; a repetition while the agent runs is
 * ignored (IgnoreNew). Elements follow the order of the [MS-TSCH] schema: a trigger's
 * `Repetition` and `Enabled` (from the base trigger type) before the logon trigger's own
 * `UserId`.
 */
export function taskXml(task: TaskDefinition): string {
  const user = xmlText(task.userId);
  const args = task.launch.args.map(windowsArgument).join(" ");
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>calsync agent: sends this user's calendars to the calsync master.</Description>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Repetition>
        <Interval>PT5M</Interval>
        <StopAtDurationEnd>false</StopAtDurationEnd>
      </Repetition>
      <Enabled>true</Enabled>
      <UserId>${user}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>${user}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>255</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>${xmlText(task.launch.program)}</Command>
      <Arguments>${xmlText(args)}</Arguments>
      <WorkingDirectory>${xmlText(task.launch.workingDirectory)}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
`;
}
