// CPU and memory of another process, from /proc (Linux): what the child itself cannot report once
// it is being stopped. CPU is user + system time of the process (its threads included).
import { readFileSync } from 'node:fs';

/** Clock ticks per second (`getconf CLK_TCK`): 100 on every Linux the bench runs on. */
const CLOCK_TICKS = 100;

export interface ProcSample {
  cpuSeconds: number;
  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMiB: number;
}

export function sampleProcess(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwmKiB = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  return { cpuSeconds: (utime + stime) / CLOCK_TICKS, peakRssMiB: hwmKiB / 1024 };
}
