/**
 * How much of a file the page cache holds: mmap + mincore through koffi (the FFI the
 * JournalNode uses for posix_fadvise), so the page-cache tests need no tool the machine may lack.
 */
import koffi from 'koffi';
import { open } from 'node:fs/promises';
import { PAGE_BYTES } from '../../raft/storage/page-cache.ts';

const self = koffi.load(null);
const mmap = self.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
const munmap = self.func('int munmap(void *addr, size_t length)');
const mincore = self.func('int mincore(void *addr, size_t length, _Out_ uint8_t *vec)');
const PROT_READ = 1;
const MAP_SHARED = 1;

/** Bytes of `path` in `offset .. offset + length` (page aligned offset) that are in the page cache. */
export async function residentBytes(path: string, offset: number, length: number): Promise<number> {
  if (offset % PAGE_BYTES !== 0 || length <= 0) throw new RangeError(`residentBytes: offset ${offset} not page aligned or length ${length} <= 0`);
  const handle = await open(path, 'r');
  try {
    const address: unknown = mmap(null, length, PROT_READ, MAP_SHARED, handle.fd, offset);
    if (address === null || koffi.address(address) === BigInt('0xffffffffffffffff')) throw new Error(`mmap of ${path} failed`);
    try {
      const vector = Buffer.alloc(Math.ceil(length / PAGE_BYTES));
      if (mincore(address, length, vector) !== 0) throw new Error(`mincore of ${path} failed`);
      let pages = 0;
      for (const flags of vector) pages += flags & 1;
      return pages * PAGE_BYTES;
    } finally {
      munmap(address, length);
    }
  } finally {
    await handle.close();
  }
}
