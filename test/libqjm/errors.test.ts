import test from 'ava';
import { status } from '@grpc/grpc-js';
import * as errors from '../../libqjm/errors.ts';

test('errors - every error class has a name, a cause and a retryable flag', (t) => {
  const cause = new Error('root');
  const samples: Error[] = [
    new errors.WriterClosedError('closed', { cause }),
    new errors.WriteTimeoutError({ firstTxId: 1, timeoutMs: 10 }, { cause }),
    new errors.NoQuorumError('none', { triedAddresses: ['a'] }, { cause }),
    new errors.RpcError({ address: 'a', grpcCode: status.UNAVAILABLE, retryable: true }, 'down', { cause }),
    new errors.RecoveryError('recovery', { cause }),
    new errors.ProtocolError('bad', { cause }),
    new errors.WriteQueueFullError('full', { cause }),
    new errors.AbortedError('aborted', { cause }),
    new errors.ElectionError('election', true, { cause }),
    new errors.EpochFencedError({ promisedEpoch: 3 }, undefined, { cause }),
    new errors.NotLeaderError({ leaderHint: 'b' }, undefined, { cause }),
    new errors.UnavailableError('busy', { cause }),
  ];
  for (const error of samples) {
    t.is(error.name, error.constructor.name, `${error.constructor.name} names itself`);
    t.is(error.cause, cause);
    t.is(typeof (error as { retryable?: unknown }).retryable, 'boolean');
  }
});

test('errors - retryable: NOT_LEADER, UNAVAILABLE, no quorum and transport failures; never a fenced writer', (t) => {
  t.true(errors.isRetryable(new errors.NotLeaderError({ leaderHint: '' })));
  t.true(errors.isRetryable(new errors.UnavailableError()));
  t.true(errors.isRetryable(new errors.NoQuorumError('x', { triedAddresses: [] })));
  t.false(errors.isRetryable(new errors.EpochFencedError({ promisedEpoch: 1 })));
  t.false(errors.isRetryable(new errors.WriteTimeoutError({ firstTxId: 1, timeoutMs: 1 })));
  t.false(errors.isRetryable(new Error('plain')));
});

test('errors - gRPC statuses are translated once: transport failures are retryable, size limits are not', (t) => {
  const down = errors.rpcErrorFrom('h:1', { code: status.UNAVAILABLE, details: 'connection refused' });
  t.true(down.retryable);
  t.is(down.address, 'h:1');
  t.regex(down.message, /UNAVAILABLE: connection refused/);
  t.true(errors.rpcErrorFrom('h:1', { code: status.DEADLINE_EXCEEDED, details: 'late' }).retryable);
  t.false(errors.rpcErrorFrom('h:1', { code: status.RESOURCE_EXHAUSTED, details: 'too big' }).retryable);
  t.false(errors.rpcErrorFrom('h:1', new Error('weird')).retryable);
  // Streams reset under the call (damaged frames, dropped connections) are transport failures.
  t.true(errors.rpcErrorFrom('h:1', { code: status.INTERNAL, details: 'Received RST_STREAM with code 9' }).retryable);
  t.true(errors.rpcErrorFrom('h:1', { code: status.INTERNAL, details: 'Received RST_STREAM with code 2 triggered by internal client error: Protocol error' }).retryable);
  t.true(errors.rpcErrorFrom('h:1', { code: status.INTERNAL, details: 'Received RST_STREAM with code 0 (Call ended without gRPC status)' }).retryable);
  t.false(errors.rpcErrorFrom('h:1', { code: status.INTERNAL, details: 'Received RST_STREAM with code 2 (Internal server error)' }).retryable, 'the server failed the call');
  t.true(errors.rpcErrorFrom('h:1', { code: status.INTERNAL, details: 'Response message parsing error: index out of range' }).retryable, 'an answer damaged on the way');
  t.false(errors.rpcErrorFrom('h:1', { code: status.INTERNAL, details: 'something else went wrong' }).retryable);
});

test('errors - wire errors become their typed classes', (t) => {
  const fenced = errors.journalErrorFromWire({ code: 'EPOCH_FENCED', message: 'm', promisedEpoch: 7 });
  t.true(fenced instanceof errors.EpochFencedError);
  t.is((fenced as errors.EpochFencedError).promisedEpoch, 7);
  const hint = errors.journalErrorFromWire({ code: 'NOT_LEADER', message: '', leaderHint: 'x:1' });
  t.true(hint instanceof errors.NotLeaderError && hint.retryable);
});
