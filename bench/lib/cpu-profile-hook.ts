/**
 * Loaded with `--import` (through NODE_OPTIONS) into processes the bench starts when it runs with
 * `--cpu-prof DIR` (Node 20 does not accept --cpu-prof in NODE_OPTIONS): profiles the whole
 * process with the inspector and writes `<DIR>/<pid>.cpuprofile` when the process exits
 * normally (the bench stops JournalNodes with SIGTERM in that mode), and `<DIR>/<pid>.gc.json`:
 * garbage collections by kind (count, total ms, longest ms).
 */
import { Session } from 'node:inspector';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env['QJ_CPU_PROF_DIR'];
if (dir !== undefined && dir !== '') {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // The main-thread session answers synchronously.
    session.post('Profiler.stop', (error, result) => {
      if (error === null) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}

if (dir !== undefined && dir !== '') {
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  const stats: Record<string, { count: number; totalMs: number; maxMs: number }> = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[(entry as unknown as { detail?: { kind: number } }).detail?.kind ?? -1] ?? 'other';
      const s = (stats[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
      s.count += 1;
      s.totalMs += entry.duration;
      s.maxMs = Math.max(s.maxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('exit', () => writeFileSync(join(dir, `${process.pid}.gc.json`), JSON.stringify(stats)));
}
