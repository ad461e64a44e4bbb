import { describe, expect, it } from 'vitest';
import type { Clock } from './kube/rate-limiter.js';
import { TokenBucket } from './kube/rate-limiter.js';
import { WorkQueue } from './queue.js';

/** A clock whose sleeps resolve only when the test advances time. */
function fakeClock(): Clock & { advance(ms: number): Promise<void>; sleeps: number[] } {
  let now = 0;
  const timers: { at: number; resolve: () => void }[] = [];
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms) => {
      sleeps.push(ms);
      return new Promise<void>((resolve) => timers.push({ at: now + ms, resolve }));
    },
    async advance(ms) {
      now += ms;
      for (const t of timers.filter((t) => t.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.resolve();
      }
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('WorkQueue', () => {
  it('serves new and changed objects before any resync backlog', async () => {
    const q = new WorkQueue();
    for (let i = 0; i < 1000; i++) q.add(`ns/old-${i}`, 'low');
    q.add('ns/new', 'high');
    expect((await q.get())!.key).toBe('ns/new');
    expect((await q.get())!.key).toBe('ns/old-0');
  });

  it('de-duplicates, and re-queues once a key added while it was processing', async () => {
    const q = new WorkQueue();
    q.add('a', 'low');
    q.add('a', 'low');
    q.add('a', 'high');
    expect(q.length).toBe(1);
    const item = await q.get();
    expect(item).toEqual({ key: 'a', priority: 'high' });
    q.add('a', 'low');
    q.add('a', 'high');
    expect(q.length).toBe(0);
    q.done('a');
    expect(q.length).toBe(1);
    expect(await q.get()).toEqual({ key: 'a', priority: 'high' });
  });

  it('retries with exponential backoff from 5 ms, capped, and forgets on success', async () => {
    const clock = fakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 5, maxDelayMs: 40 });
    const delays = [];
    for (let i = 0; i < 6; i++) delays.push(q.addRateLimited('k'));
    expect(delays).toEqual([5, 10, 20, 40, 40, 40]);
    expect(q.numRequeues('k')).toBe(6);
    expect(q.length).toBe(0);
    await clock.advance(39);
    expect(q.length).toBe(0);
    await clock.advance(1);
    expect(q.length).toBe(1);
    q.forget('k');
    expect(q.backoff('k')).toBe(5);
  });

  it('get waits for work and returns undefined after shutdown', async () => {
    const q = new WorkQueue();
    const pending = q.get();
    setTimeout(() => q.add('late'), 5);
    expect((await pending)!.key).toBe('late');
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
  });
});

describe('TokenBucket (--kubeclient-qps, --kubeclient-burst)', () => {
  it('lets a burst through at once, then spaces requests at the rate', async () => {
    const clock = fakeClock();
    const b = new TokenBucket(10, 3, clock);
    await b.take();
    await b.take();
    await b.take();
    expect(clock.sleeps).toEqual([]);
    const fourth = b.take();
    expect(clock.sleeps).toEqual([100]);
    let done = false;
    void fourth.then(() => (done = true));
    await clock.advance(99);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
  });

  it('urgent requests (a new SealedSecret) take the next token ahead of queued bulk work', async () => {
    const clock = fakeClock();
    const b = new TokenBucket(10, 1, clock);
    await b.take();
    const order: string[] = [];
    const bulk = Array.from({ length: 5 }, (_, i) => b.take().then(() => order.push(`bulk-${i}`)));
    const urgent = b.take(true).then(() => order.push('urgent'));
    expect(b.waiting).toBe(6);
    for (let i = 0; i < 6; i++) await clock.advance(100);
    await Promise.all([...bulk, urgent]);
    expect(order).toEqual(['urgent', 'bulk-0', 'bulk-1', 'bulk-2', 'bulk-3', 'bulk-4']);
    // Still one request per 100 ms: 6 waiters took 600 ms.
    expect(b.waiting).toBe(0);
  });

  it('a burst below one token still lets requests through at the rate; qps 0 is refused', async () => {
    const clock = fakeClock();
    const b = new TokenBucket(10, 0.5, clock);
    await b.take();
    let done = false;
    void b.take().then(() => (done = true));
    await clock.advance(100);
    expect(done).toBe(true);
    expect(() => new TokenBucket(0, 10, clock)).toThrow(RangeError);
  });

  it('a negative qps disables limiting', async () => {
    const clock = fakeClock();
    const b = new TokenBucket(-1, 1, clock);
    for (let i = 0; i < 100; i++) await b.take();
    expect(clock.sleeps).toEqual([]);
  });
});
