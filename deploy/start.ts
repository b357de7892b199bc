/**
 * `npm start`: the main job. Until the JournalNode lands this is a placeholder that says so;
 * it will start a local 3-JournalNode cluster and the demo master pair.
 */
console.log('quorum-journal: the main job (3 JournalNodes and a demo master pair) is not built yet.');
console.log('Run `npm test` for the test suite and `npm run sim -- --seeds 500` for the Raft simulator.');
