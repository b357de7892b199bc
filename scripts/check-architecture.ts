/**
 * Architecture check, run by `npm test`:
 * 1. raft/core is pure: no module outside raft/core, no Date, timers, Math.random, process.
 * 2. Layering: each top-level folder imports only the folders its README allows.
 * 3. No circular imports (dpdm over the whole tree).
 * Prints every violation and exits 1 if there is any.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';
import { execFileSync } from 'node:child_process';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const violations: string[] = [];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.') || name === 'generated') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const importRe = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(importRe)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

// 1. Purity of raft/core.
const forbiddenInCore: [RegExp, string][] = [
  [/\bDate\b/, 'Date'],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b|\bqueueMicrotask\b/, 'timers'],
  [/\bMath\.random\b/, 'Math.random'],
  [/\bprocess\./, 'process'],
  [/\bperformance\b/, 'performance'],
];
for (const file of walk(join(root, 'raft', 'core'))) {
  const rel = relative(root, file);
  const src = stripComments(readFileSync(file, 'utf8'));
  for (const [re, what] of forbiddenInCore) if (re.test(src)) violations.push(`${rel}: raft/core must not use ${what}`);
  for (const spec of importsOf(file)) {
    if (!spec.startsWith('.')) { violations.push(`${rel}: raft/core must not import '${spec}'`); continue; }
    const target = relative(join(root, 'raft', 'core'), resolve(dirname(file), spec));
    if (target.startsWith('..')) violations.push(`${rel}: raft/core must not import outside itself ('${spec}')`);
  }
}

// 2. Layering between top-level folders: folder -> folders it may import.
const allowed: Record<string, string[]> = {
  raft: ['raft'],
  journalnode: ['journalnode', 'raft'],
  libqjm: ['libqjm', 'journalnode/protocol', 'raft/admin/client.ts', 'raft/admin/proto.ts', 'raft/admin/generated', 'raft/transport/grpc-tuning.ts'],
  deploy: ['deploy', 'raft', 'journalnode', 'libqjm'],
  examples: ['examples', 'libqjm'],
  bench: ['bench', 'raft', 'journalnode', 'libqjm', 'deploy', 'examples', 'test/support'],
  bin: ['bin', 'raft', 'journalnode', 'libqjm'],
  scripts: ['scripts'],
  chaos: ['chaos', 'raft', 'journalnode', 'libqjm', 'deploy', 'test/support'],
  test: ['test', 'raft', 'journalnode', 'libqjm', 'deploy', 'examples', 'bench', 'bin', 'scripts', 'chaos'],
};
for (const top of Object.keys(allowed)) {
  let files: string[];
  try { files = walk(join(root, top)); } catch { continue; }
  for (const file of files) {
    const rel = relative(root, file);
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(root, resolve(dirname(file), spec)).split(sep).join('/');
      if (target.startsWith('..')) { violations.push(`${rel}: imports outside the project ('${spec}')`); continue; }
      const ok = allowed[top]!.some((a) => target === a || target.startsWith(a + '/'));
      if (!ok) violations.push(`${rel}: ${top}/ may not import '${target}' (allowed: ${allowed[top]!.join(', ')})`);
    }
  }
}

// 3. No circular imports.
const entries = Object.keys(allowed).filter((d) => { try { return statSync(join(root, d)).isDirectory(); } catch { return false; } });
const globs = entries.map((d) => `${d}/**/*.ts`);
try {
  const out = execFileSync(join(root, 'node_modules', '.bin', 'dpdm'),
    ['--no-tree', '--no-warning', '--exit-code', 'circular:1', '-T', '--transform', ...globs],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  void out;
} catch (e) {
  const err = e as { stdout?: string; status?: number };
  violations.push(`circular imports found:\n${err.stdout ?? String(e)}`);
}

if (violations.length > 0) {
  for (const v of violations) console.error(`arch: ${v}`);
  console.error(`arch: ${violations.length} violation(s)`);
  process.exit(1);
}
console.log(`arch: ok (${entries.join(', ')})`);
