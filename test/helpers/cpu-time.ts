// Time budgets measured in this process's CPU time, not wall-clock time: on a machine shared with
// other work (CI runners, two test files at once on two cores) the operating system can pause the
// process for any length of time, but the CPU time a computation needs stays what it is.

/** Milliseconds of CPU time (user + system) this process spent since `since` (a process.cpuUsage()). */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}
