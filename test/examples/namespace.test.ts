/**
 * The metadata master's pure parts: the namespace tree, the edit encoding, the HTTP body
 * decoding, the configuration.
 */
import test from 'ava';
import fc from 'fast-check';
import { Namespace, isValidPath, namespaceEntriesMax } from '../../examples/metadata-master/namespace.ts';
import type { NamespaceEdit } from '../../examples/metadata-master/namespace.ts';
import { EditDecodeError, decodeEdit, encodeEdit } from '../../examples/metadata-master/edits.ts';
import { editOfBody } from '../../examples/metadata-master/http-api.ts';
import { hintOfCandidate } from '../../examples/metadata-master/master.ts';
import { MasterConfigError, parseElection, parseMasterArgs } from '../../examples/metadata-master/config.ts';

function applyAll(namespace: Namespace, edits: readonly NamespaceEdit[]): string[] {
  return edits.map((edit) => {
    const outcome = namespace.apply(edit);
    return outcome.ok ? 'ok' : outcome.code;
  });
}

test('metadata-master namespace - mkdir, create, rename and delete change the tree as a file system would', (t) => {
  const ns = new Namespace();
  const outcomes = applyAll(ns, [
    { op: 'mkdir', path: '/a/b', parents: false },
    { op: 'mkdir', path: '/a/b', parents: true },
    { op: 'mkdir', path: '/a/b', parents: false },
    { op: 'create', path: '/a/b/f' },
    { op: 'create', path: '/a/b/f' },
    { op: 'create', path: '/a/b/f/g' },
    { op: 'rename', path: '/a/b/f', to: '/a/f2' },
    { op: 'rename', path: '/a', to: '/a/b/inside' },
    { op: 'delete', path: '/a', recursive: false },
    { op: 'create', path: '/c' },
    { op: 'delete', path: '/c', recursive: false },
    { op: 'delete', path: '/c', recursive: false },
  ]);
  t.deepEqual(outcomes, ['NOT_FOUND', 'ok', 'ALREADY_EXISTS', 'ok', 'ALREADY_EXISTS', 'NOT_A_DIRECTORY', 'ok', 'INVALID_PATH', 'NOT_EMPTY', 'ok', 'ok', 'NOT_FOUND']);
  t.deepEqual(ns.paths('/'), ['/a/', '/a/b/', '/a/f2']);
  t.is(ns.size, 3);
  const listing = ns.list('/a');
  t.deepEqual(listing.ok ? listing.entries : listing, [{ name: 'b', kind: 'dir' }, { name: 'f2', kind: 'file' }]);
  t.is(ns.apply({ op: 'delete', path: '/a', recursive: true }).ok, true);
  t.is(ns.size, 0);
  t.deepEqual(ns.paths('/'), []);
});

test('metadata-master namespace - invalid paths are refused and change nothing', (t) => {
  const ns = new Namespace();
  for (const path of ['', 'a', '/a/', '//a', '/a/./b', '/a/../b', '/a\0b', '/a\nb', `/${'x'.repeat(256)}`, `/${Array.from({ length: 65 }, () => 'd').join('/')}`]) {
    t.false(isValidPath(path), path);
    const outcome = ns.apply({ op: 'create', path });
    t.false(outcome.ok);
  }
  t.false(ns.apply({ op: 'delete', path: '/', recursive: true }).ok);
  t.false(ns.apply({ op: 'rename', path: '/', to: '/x' }).ok);
  t.is(ns.size, 0);
  t.true(namespaceEntriesMax > 0);
});

test('metadata-master namespace - check() predicts apply() and never changes the tree', (t) => {
  const names = ['/a', '/b', '/a/x', '/b/y', '/a/x/z'];
  const editArbitrary: fc.Arbitrary<NamespaceEdit> = fc.oneof(
    fc.record({ op: fc.constant('mkdir' as const), path: fc.constantFrom(...names), parents: fc.boolean() }),
    fc.record({ op: fc.constant('create' as const), path: fc.constantFrom(...names) }),
    fc.record({ op: fc.constant('rename' as const), path: fc.constantFrom(...names), to: fc.constantFrom(...names) }),
    fc.record({ op: fc.constant('delete' as const), path: fc.constantFrom(...names), recursive: fc.boolean() }),
  );
  fc.assert(
    fc.property(fc.array(editArbitrary, { maxLength: 40 }), (edits) => {
      const ns = new Namespace();
      const replica = new Namespace();
      for (const edit of edits) {
        const before = JSON.stringify(ns.paths('/'));
        const predicted = ns.check(edit);
        if (JSON.stringify(ns.paths('/')) !== before) return false;
        const outcome = ns.apply(edit);
        if (predicted.ok !== outcome.ok) return false;
        // A replica fed the decoded records reaches the same tree.
        replica.apply(decodeEdit(encodeEdit(edit)));
        if (ns.size !== ns.paths('/')!.length) return false;
      }
      return JSON.stringify(ns.paths('/')) === JSON.stringify(replica.paths('/'));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('metadata-master edits - every edit survives encode and decode; malformed records are refused', (t) => {
  const edits: NamespaceEdit[] = [
    { op: 'mkdir', path: '/a/b', parents: true },
    { op: 'mkdir', path: '/a', parents: false },
    { op: 'create', path: '/a/é' },
    { op: 'rename', path: '/a/b', to: '/c' },
    { op: 'delete', path: '/a', recursive: true },
    { op: 'delete', path: '/a', recursive: false },
  ];
  for (const edit of edits) t.deepEqual(decodeEdit(encodeEdit(edit)), edit);
  t.is(Buffer.from(encodeEdit({ op: 'create', path: '/a' })).toString(), '{"o":"c","p":"/a"}');
  for (const bad of ['', 'null', '[]', '{"o":"x","p":"/a"}', '{"o":"c"}', '{"o":"c","p":"/a","f":1}', '{"o":"r","p":"/a"}', '{"o":"c","p":"/a","t":"/b"}', '{"o":"c","p":"/a","z":1}', '{"o":"m","p":"/a","f":2}']) {
    t.throws(() => decodeEdit(Buffer.from(bad)), { instanceOf: EditDecodeError }, bad);
  }
});

test('metadata-master http - request bodies decode into edits; anything else is refused', (t) => {
  t.deepEqual(editOfBody('mkdir', { path: '/a' }), { op: 'mkdir', path: '/a', parents: false });
  t.deepEqual(editOfBody('delete', { path: '/a', recursive: true }), { op: 'delete', path: '/a', recursive: true });
  t.deepEqual(editOfBody('rename', { path: '/a', to: '/b' }), { op: 'rename', path: '/a', to: '/b' });
  t.is(editOfBody('rename', { path: '/a' }), undefined);
  t.is(editOfBody('create', { path: 1 }), undefined);
  t.is(editOfBody('create', { path: '/a', extra: true }), undefined);
  t.is(editOfBody('create', undefined), undefined);
});

test('metadata-master config - flags are validated; the election is journal or etcd://', (t) => {
  const parsed = parseMasterArgs(['--id', 'm1', '--http', '127.0.0.1:0', '--journal-nodes', 'a:1,b:2', '--election', 'etcd://127.0.0.1:2379', '--segment-edits', '10']);
  t.is(parsed.kind, 'config');
  if (parsed.kind !== 'config') return;
  t.deepEqual(parsed.config.journalNodes, ['a:1', 'b:2']);
  t.deepEqual(parsed.config.election, { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], ttlSeconds: 3 });
  t.is(parsed.config.segmentEdits, 10);
  t.deepEqual(parseElection('journal', 2000), { kind: 'journal', ttlMs: 2000 });
  t.throws(() => parseElection('zookeeper://x:1', 2000), { instanceOf: MasterConfigError });
  t.throws(() => parseMasterArgs(['--id', 'm1', '--http', '127.0.0.1:0']), { instanceOf: MasterConfigError, message: /journalNodes/ });
  t.throws(() => parseMasterArgs(['--id', 'm 1', '--http', '127.0.0.1:0', '--journal-nodes', 'a:1']), { instanceOf: MasterConfigError, message: /^id/ });
  t.throws(() => parseMasterArgs(['--id', 'm1', '--http', 'nowhere', '--journal-nodes', 'a:1']), { instanceOf: MasterConfigError, message: /^http/ });
  t.is(parseMasterArgs(['--help']).kind, 'help');
  t.deepEqual(hintOfCandidate('m2@host:8080'), { id: 'm2', http: 'host:8080' });
  t.is(hintOfCandidate(undefined), null);
});
