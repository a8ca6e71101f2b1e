// The KV block manager: a pool of fixed-size blocks handed to requests as block tables, with
// reference counts and automatic prefix caching. A full block is registered under the hash of
// its content (see blockHash.ts); a later request whose prompt starts with the same blocks
// reuses them. Freed blocks keep their content and hash and sit in an LRU free queue; they are
// evicted (their hash forgotten) only when the pool hands them out again.
// Never imports a backend: block ids are plain numbers into the runner's cache.

const NONE = -1;

export interface PrefixCacheStats {
  /** Tokens looked up in the prefix cache (vllm:prefix_cache_queries). */
  queries: number;
  /** Of those, tokens found (vllm:prefix_cache_hits). */
  hits: number;
}

export class BlockManager {
  readonly numBlocks: number;
  readonly blockSize: number;
  readonly enablePrefixCaching: boolean;
  readonly stats: PrefixCacheStats = { queries: 0, hits: 0 };

  private readonly refCount: Int32Array;
  private readonly blockHash: (string | null)[];
  /** Doubly linked free queue in eviction order (head is evicted first); NONE-terminated. */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly inFree: Uint8Array;
  private head = NONE;
  private tail = NONE;
  private freeCount = 0;
  private readonly cached = new Map<string, number>();
  private readonly tables = new Map<string, number[]>();
  /** Per request: how many leading blocks of its table are registered in the cache. */
  private readonly committed = new Map<string, number>();

  constructor(numBlocks: number, blockSize: number, enablePrefixCaching = true) {
    if (!Number.isSafeInteger(numBlocks) || numBlocks < 1) throw new Error(`numBlocks must be a positive integer, got ${numBlocks}`);
    if (!Number.isSafeInteger(blockSize) || blockSize < 1) throw new Error(`blockSize must be a positive integer, got ${blockSize}`);
    this.numBlocks = numBlocks;
    this.blockSize = blockSize;
    this.enablePrefixCaching = enablePrefixCaching;
    this.refCount = new Int32Array(numBlocks);
    this.blockHash = new Array<string | null>(numBlocks).fill(null);
    this.prev = new Int32Array(numBlocks).fill(NONE);
    this.next = new Int32Array(numBlocks).fill(NONE);
    this.inFree = new Uint8Array(numBlocks);
    for (let b = 0; b < numBlocks; b++) this.pushTail(b);
  }

  get numFreeBlocks(): number {
    return this.freeCount;
  }

  /** Fraction of blocks held by requests, 0..1 (vllm:kv_cache_usage_perc). */
  usage(): number {
    return (this.numBlocks - this.freeCount) / this.numBlocks;
  }

  blockTable(requestId: string): readonly number[] {
    return this.tables.get(requestId) ?? [];
  }

  hasRequest(requestId: string): boolean {
    return this.tables.has(requestId);
  }

  blocksFor(numTokens: number): number {
    return Math.ceil(numTokens / this.blockSize);
  }

  /**
   * The longest run of leading blocks whose hashes are cached, at most `maxBlocks` of them.
   * `queryTokens` is what the lookup counts toward the hit-rate statistics.
   */
  findCachedPrefix(hashes: readonly string[], maxBlocks: number, queryTokens: number): number[] {
    this.stats.queries += queryTokens;
    if (!this.enablePrefixCaching) return [];
    const found: number[] = [];
    for (let i = 0; i < Math.min(maxBlocks, hashes.length); i++) {
      const block = this.cached.get(hashes[i]);
      if (block === undefined) break;
      found.push(block);
    }
    this.stats.hits += found.length * this.blockSize;
    return found;
  }

  /**
   * Grows the request's table to hold `numTotalTokens` tokens. `cachedPrefix` (only on the
   * first allocation of a request) are blocks from findCachedPrefix that start the table.
   * Returns false, changing nothing, when the pool cannot supply the blocks.
   */
  allocate(requestId: string, numTotalTokens: number, cachedPrefix: readonly number[] = []): boolean {
    const table = this.tables.get(requestId);
    if (table && cachedPrefix.length > 0) throw new Error(`request ${requestId}: a cached prefix can only start a new block table`);
    const have = (table?.length ?? 0) + cachedPrefix.length;
    const needNew = Math.max(0, this.blocksFor(numTotalTokens) - have);
    let reclaimed = 0; // cached blocks now idle in the free queue, which touching takes out of it
    for (const b of cachedPrefix) if (this.refCount[b] === 0) reclaimed++;
    if (needNew > this.freeCount - reclaimed) return false;
    const out = table ?? [];
    for (const b of cachedPrefix) {
      if (this.refCount[b] === 0) this.unlink(b);
      this.refCount[b]++;
      out.push(b);
    }
    for (let i = 0; i < needNew; i++) out.push(this.takeFree());
    if (!table) {
      this.tables.set(requestId, out);
      this.committed.set(requestId, cachedPrefix.length);
    }
    return true;
  }

  /**
   * Registers the request's full blocks, up to `numFullBlocks`, under their content hashes
   * (`hashes[i]` for block i), once their K/V has been computed.
   */
  commitFullBlocks(requestId: string, hashes: readonly string[], numFullBlocks: number): void {
    const table = this.tables.get(requestId);
    if (!table || !this.enablePrefixCaching) return;
    const upTo = Math.min(numFullBlocks, table.length, hashes.length);
    let i = this.committed.get(requestId) ?? 0;
    for (; i < upTo; i++) {
      const b = table[i];
      if (this.blockHash[b] !== null) continue; // a block reused from the cache
      if (this.cached.has(hashes[i])) continue; // same content computed by another request: keep theirs
      this.blockHash[b] = hashes[i];
      this.cached.set(hashes[i], b);
    }
    this.committed.set(requestId, Math.max(i, this.committed.get(requestId) ?? 0));
  }

  /** Shrinks the request's table to the blocks `numTokens` tokens need: the blocks that only
   *  rejected draft tokens reached go back to the pool. They were never registered in the cache
   *  (commitFullBlocks only takes computed, accepted tokens). */
  trim(requestId: string, numTokens: number): void {
    const table = this.tables.get(requestId);
    if (!table) return;
    const keep = this.blocksFor(numTokens);
    while (table.length > keep) {
      const b = table[table.length - 1];
      if (this.refCount[b] !== 1 || this.blockHash[b] !== null) throw new Error(`block ${b} of request ${requestId} is shared or cached; it cannot be trimmed`);
      table.pop();
      this.refCount[b] = 0;
      this.pushTail(b);
    }
    if ((this.committed.get(requestId) ?? 0) > keep) this.committed.set(requestId, keep);
  }

  /** Releases the request's blocks; tail blocks go first into the free queue so a shared
   *  prefix is evicted last. Unknown ids are ignored (a request can end twice: abort + finish). */
  free(requestId: string): void {
    const table = this.tables.get(requestId);
    if (!table) return;
    this.tables.delete(requestId);
    this.committed.delete(requestId);
    for (let i = table.length - 1; i >= 0; i--) {
      const b = table[i];
      if (this.refCount[b] <= 0) throw new Error(`block ${b} freed twice (request ${requestId})`);
      this.refCount[b]--;
      if (this.refCount[b] === 0) this.pushTail(b);
    }
  }

  /** Forgets every cached hash (blocks stay where they are). */
  resetPrefixCache(): void {
    this.cached.clear();
    this.blockHash.fill(null);
  }

  /** Throws when the bookkeeping is inconsistent; for tests and debug runs. */
  checkInvariants(): void {
    const expected = new Int32Array(this.numBlocks);
    for (const [id, table] of this.tables) {
      const seen = new Set<number>();
      for (const b of table) {
        if (seen.has(b)) throw new Error(`request ${id} holds block ${b} twice`);
        seen.add(b);
        expected[b]++;
      }
    }
    let free = 0;
    for (let b = 0; b < this.numBlocks; b++) {
      if (expected[b] !== this.refCount[b]) throw new Error(`block ${b}: refCount ${this.refCount[b]}, held ${expected[b]} times`);
      if ((this.refCount[b] === 0) !== (this.inFree[b] === 1)) throw new Error(`block ${b}: refCount ${this.refCount[b]} but inFree ${this.inFree[b]}`);
      if (this.inFree[b]) free++;
    }
    let walked = 0;
    for (let b = this.head; b !== NONE; b = this.next[b]) {
      if (!this.inFree[b]) throw new Error(`block ${b} in the free queue but not marked free`);
      if (++walked > this.numBlocks) throw new Error('free queue has a cycle');
    }
    if (walked !== free || free !== this.freeCount) throw new Error(`free queue length ${walked}, marked ${free}, counted ${this.freeCount}`);
    for (const [hash, b] of this.cached) if (this.blockHash[b] !== hash) throw new Error(`cache entry for block ${b} disagrees with its hash`);
  }

  private takeFree(): number {
    const b = this.head;
    if (b === NONE) throw new Error('block pool exhausted');
    this.unlink(b);
    const hash = this.blockHash[b];
    if (hash !== null) {
      // Evict: the block's old content is about to be overwritten.
      if (this.cached.get(hash) === b) this.cached.delete(hash);
      this.blockHash[b] = null;
    }
    this.refCount[b] = 1;
    return b;
  }

  private pushTail(b: number): void {
    this.prev[b] = this.tail;
    this.next[b] = NONE;
    if (this.tail !== NONE) this.next[this.tail] = b;
    else this.head = b;
    this.tail = b;
    this.inFree[b] = 1;
    this.freeCount++;
  }

  private unlink(b: number): void {
    if (!this.inFree[b]) throw new Error(`block ${b} is not free`);
    const p = this.prev[b];
    const n = this.next[b];
    if (p !== NONE) this.next[p] = n;
    else this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else this.tail = p;
    this.prev[b] = NONE;
    this.next[b] = NONE;
    this.inFree[b] = 0;
    this.freeCount--;
  }
}
