/**
 * The namespace of the metadata master: a tree of directories and files kept in memory, changed
 * only by {@link Namespace.apply} in txid order. Pure: no I/O, no clock.
 *
 * Every edit has one deterministic outcome, decided when it is applied: the active master and
 * every standby apply the same edits in the same order and reach the same tree, whatever the
 * outcome of each edit. An edit that cannot take effect (its parent is missing, the target
 * exists...) is a no-op with a typed failure: it was logged (it has a txid) but changed nothing.
 */

/** Longest path, in UTF-16 code units. */
export const pathCharsMax = 1024;

/** Longest name of one path component, in UTF-16 code units. */
export const nameCharsMax = 255;

/** Deepest path, in components. */
export const pathDepthMax = 64;

/** Most entries (directories and files, the root excluded) the namespace holds. */
export const namespaceEntriesMax = 1_000_000;

/** Most entries one listing returns. */
export const listEntriesMax = 10_000;

/** A namespace mutation: what is logged to the journal. Paths are absolute and normalized. */
export type NamespaceEdit =
  | { readonly op: 'mkdir'; readonly path: string; readonly parents: boolean }
  | { readonly op: 'create'; readonly path: string }
  | { readonly op: 'rename'; readonly path: string; readonly to: string }
  | { readonly op: 'delete'; readonly path: string; readonly recursive: boolean };

/** Why an edit took no effect. */
export type FailureCode = 'INVALID_PATH' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'NOT_A_DIRECTORY' | 'NOT_EMPTY' | 'NAMESPACE_FULL';

/** The outcome of an edit: applied, or a no-op with the reason. */
export type EditOutcome = { readonly ok: true } | { readonly ok: false; readonly code: FailureCode; readonly message: string };

/** One entry of a listing. */
export interface ListEntry {
  readonly name: string;
  readonly kind: 'dir' | 'file';
}

/** A listing, or why there is none. */
export type ListResult = { readonly ok: true; readonly entries: ListEntry[]; readonly truncated: boolean } | { readonly ok: false; readonly code: FailureCode; readonly message: string };

interface DirNode {
  readonly kind: 'dir';
  readonly children: Map<string, TreeNode>;
}

interface FileNode {
  readonly kind: 'file';
}

type TreeNode = DirNode | FileNode;

const ok: EditOutcome = { ok: true };

function fail(code: FailureCode, message: string): EditOutcome & { ok: false } {
  return { ok: false, code, message };
}

/** Control characters (NUL included) are refused in names: they would not print, and JSON escapes them six-fold. */
const controlCharacter = /\p{Cc}/u;

/**
 * Split an absolute path into its components (pure). `/` is the root (no component). Refuses
 * relative paths, empty components (`//`), `.` and `..`, control characters, and paths beyond
 * the limits.
 */
export function splitPath(path: string): string[] | undefined {
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > pathCharsMax) return undefined;
  if (path === '/') return [];
  const parts = path.slice(1).split('/');
  if (parts.length > pathDepthMax) return undefined;
  for (const part of parts) {
    if (part.length === 0 || part.length > nameCharsMax || part === '.' || part === '..' || controlCharacter.test(part)) return undefined;
  }
  return parts;
}

/** True when `path` is a valid absolute path (see {@link splitPath}). */
export function isValidPath(path: string): boolean {
  return splitPath(path) !== undefined;
}

/** The paths an edit names. */
function pathsOf(edit: NamespaceEdit): string[] {
  return edit.op === 'rename' ? [edit.path, edit.to] : [edit.path];
}

/** The metadata master's namespace tree. */
export class Namespace {
  private readonly root: DirNode = { kind: 'dir', children: new Map() };
  private entryCount = 0;

  /** Directories and files, the root excluded. */
  get size(): number {
    return this.entryCount;
  }

  /** Apply one edit (in txid order). Never throws for a failing edit: returns its outcome. */
  apply(edit: NamespaceEdit): EditOutcome {
    const checked = this.check(edit);
    if (!checked.ok) return checked;
    switch (edit.op) {
      case 'mkdir':
        return this.mkdir(splitPath(edit.path)!, edit.parents);
      case 'create': {
        const parts = splitPath(edit.path)!;
        const parent = this.lookupDir(parts.slice(0, -1))!;
        parent.children.set(parts.at(-1)!, { kind: 'file' });
        this.entryCount += 1;
        return ok;
      }
      case 'rename': {
        const from = splitPath(edit.path)!;
        const to = splitPath(edit.to)!;
        const fromParent = this.lookupDir(from.slice(0, -1))!;
        const node = fromParent.children.get(from.at(-1)!)!;
        fromParent.children.delete(from.at(-1)!);
        this.lookupDir(to.slice(0, -1))!.children.set(to.at(-1)!, node);
        return ok;
      }
      case 'delete': {
        const parts = splitPath(edit.path)!;
        const parent = this.lookupDir(parts.slice(0, -1))!;
        const node = parent.children.get(parts.at(-1)!)!;
        parent.children.delete(parts.at(-1)!);
        this.entryCount -= countEntries(node);
        return ok;
      }
    }
  }

  /**
   * Would `edit` take effect now? The outcome {@link apply} would return, without changing
   * anything (pure). The active master checks before logging, to refuse what cannot work;
   * the outcome that counts is the one at apply time.
   */
  check(edit: NamespaceEdit): EditOutcome {
    for (const path of pathsOf(edit)) {
      if (!isValidPath(path)) return fail('INVALID_PATH', `'${path}' is not an absolute path of at most ${pathDepthMax} valid components`);
    }
    const parts = splitPath(edit.path)!;
    switch (edit.op) {
      case 'mkdir': {
        if (parts.length === 0) return edit.parents ? ok : fail('ALREADY_EXISTS', '/ exists');
        let dir: DirNode = this.root;
        let missing = 0;
        for (let i = 0; i < parts.length; i += 1) {
          const child = dir.children.get(parts[i]!);
          if (child === undefined) {
            if (i < parts.length - 1 && !edit.parents) return fail('NOT_FOUND', `${joinPath(parts.slice(0, i + 1))} does not exist`);
            missing = parts.length - i;
            break;
          }
          if (child.kind !== 'dir') return fail(i === parts.length - 1 ? 'ALREADY_EXISTS' : 'NOT_A_DIRECTORY', `${joinPath(parts.slice(0, i + 1))} is a file`);
          dir = child;
        }
        if (missing === 0) return edit.parents ? ok : fail('ALREADY_EXISTS', `${edit.path} exists`);
        if (this.entryCount + missing > namespaceEntriesMax) return fail('NAMESPACE_FULL', `the namespace holds ${namespaceEntriesMax} entries`);
        return ok;
      }
      case 'create': {
        if (parts.length === 0) return fail('ALREADY_EXISTS', '/ exists');
        const parent = this.parentFor(parts);
        if (!parent.ok) return parent;
        if (parent.dir.children.has(parts.at(-1)!)) return fail('ALREADY_EXISTS', `${edit.path} exists`);
        if (this.entryCount + 1 > namespaceEntriesMax) return fail('NAMESPACE_FULL', `the namespace holds ${namespaceEntriesMax} entries`);
        return ok;
      }
      case 'rename': {
        const to = splitPath(edit.to)!;
        if (parts.length === 0 || to.length === 0) return fail('INVALID_PATH', 'the root cannot be renamed or replaced');
        const fromParent = this.parentFor(parts);
        if (!fromParent.ok) return fromParent;
        if (!fromParent.dir.children.has(parts.at(-1)!)) return fail('NOT_FOUND', `${edit.path} does not exist`);
        if (to.length > parts.length && parts.every((part, i) => to[i] === part)) return fail('INVALID_PATH', `cannot move ${edit.path} under itself`);
        const toParent = this.parentFor(to);
        if (!toParent.ok) return toParent;
        if (toParent.dir.children.has(to.at(-1)!)) return fail('ALREADY_EXISTS', `${edit.to} exists`);
        return ok;
      }
      case 'delete': {
        if (parts.length === 0) return fail('INVALID_PATH', 'the root cannot be deleted');
        const parent = this.parentFor(parts);
        if (!parent.ok) return parent;
        const node = parent.dir.children.get(parts.at(-1)!);
        if (node === undefined) return fail('NOT_FOUND', `${edit.path} does not exist`);
        if (node.kind === 'dir' && node.children.size > 0 && !edit.recursive) return fail('NOT_EMPTY', `${edit.path} is not empty`);
        return ok;
      }
    }
  }

  /** The entries of directory `path`, sorted by name, at most `limit` (<= listEntriesMax). */
  list(path: string, limit = listEntriesMax): ListResult {
    const parts = splitPath(path);
    if (parts === undefined) return fail('INVALID_PATH', `'${path}' is not a valid absolute path`);
    let node: TreeNode = this.root;
    for (let i = 0; i < parts.length; i += 1) {
      if (node.kind !== 'dir') return fail('NOT_A_DIRECTORY', `${joinPath(parts.slice(0, i))} is a file`);
      const child: TreeNode | undefined = node.children.get(parts[i]!);
      if (child === undefined) return fail('NOT_FOUND', `${path} does not exist`);
      node = child;
    }
    if (node.kind !== 'dir') return fail('NOT_A_DIRECTORY', `${path} is a file`);
    const names = [...node.children.keys()].sort();
    const bounded = Math.min(Math.max(0, limit), listEntriesMax);
    const entries = names.slice(0, bounded).map((name) => ({ name, kind: node.children.get(name)!.kind }));
    return { ok: true, entries, truncated: names.length > entries.length };
  }

  /**
   * Every path under `path` (itself excluded), depth first in name order, directories marked
   * with a trailing `/`: a canonical form to compare two namespaces. Undefined when `path` is
   * not a directory.
   */
  paths(path = '/'): string[] | undefined {
    const parts = splitPath(path);
    if (parts === undefined) return undefined;
    const dir = this.lookupDir(parts);
    if (dir === undefined) return undefined;
    const out: string[] = [];
    const walk = (node: DirNode, prefix: string): void => {
      for (const name of [...node.children.keys()].sort()) {
        const child = node.children.get(name)!;
        const childPath = `${prefix}/${name}`;
        out.push(child.kind === 'dir' ? `${childPath}/` : childPath);
        if (child.kind === 'dir') walk(child, childPath);
      }
    };
    walk(dir, parts.length === 0 ? '' : joinPath(parts));
    return out;
  }

  private mkdir(parts: readonly string[], parents: boolean): EditOutcome {
    let dir = this.root;
    for (const part of parts) {
      let child = dir.children.get(part);
      if (child === undefined) {
        child = { kind: 'dir', children: new Map() };
        dir.children.set(part, child);
        this.entryCount += 1;
      }
      if (child.kind !== 'dir') throw new Error(`mkdir: checked path crosses a file at '${part}'`);
      dir = child;
    }
    if (parts.length === 0 && !parents) throw new Error('mkdir /: should have been refused by check');
    return ok;
  }

  private lookupDir(parts: readonly string[]): DirNode | undefined {
    let dir = this.root;
    for (const part of parts) {
      const child = dir.children.get(part);
      if (child === undefined || child.kind !== 'dir') return undefined;
      dir = child;
    }
    return dir;
  }

  /** The directory that holds the last component of `parts`, or why there is none. */
  private parentFor(parts: readonly string[]): { ok: true; dir: DirNode } | (EditOutcome & { ok: false }) {
    let dir = this.root;
    for (let i = 0; i < parts.length - 1; i += 1) {
      const child = dir.children.get(parts[i]!);
      if (child === undefined) return fail('NOT_FOUND', `${joinPath(parts.slice(0, i + 1))} does not exist`);
      if (child.kind !== 'dir') return fail('NOT_A_DIRECTORY', `${joinPath(parts.slice(0, i + 1))} is a file`);
      dir = child;
    }
    return { ok: true, dir };
  }
}

function joinPath(parts: readonly string[]): string {
  return `/${parts.join('/')}`;
}

function countEntries(node: TreeNode): number {
  if (node.kind === 'file') return 1;
  let total = 1;
  for (const child of node.children.values()) total += countEntries(child);
  return total;
}
