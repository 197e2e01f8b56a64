// The coordinator's fallback when a job's event never arrives (issue 16): with no QueueEvents listening at all, the
// job's stored state still gives its result, or its failure, within a poll.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Queue, Worker } from 'bullmq';
import { connect, QUEUE_PREFIX } from '../search/engine/queue/connection.js';
import { pollUntilFinished } from '../search/engine/queue/coordinator.js';
import { queueTestContext, redisSkip } from './queue-helpers.js';

const { url } = queueTestContext('queue-poll', false);

test('pollUntilFinished: a completed job gives its return value, a failed one its reason, without any event', { skip: redisSkip }, async () => {
  const name = 'poll-test';
  // BullMQ leaves connections it was given open: they are disconnected at the end, or the process stays alive.
  const connections = [connect(url()), connect(url())] as const;
  const queue = new Queue(name, { connection: connections[0], prefix: QUEUE_PREFIX });
  const worker = new Worker<{ n?: number; fail?: boolean }, { echo: number | undefined }>(
    name,
    async (job) => {
      if (job.data.fail === true) throw new Error('failed on purpose');
      return { echo: job.data.n };
    },
    { connection: connections[1], prefix: QUEUE_PREFIX },
  );
  try {
    const ok = await queue.add('x', { n: 7 }, { jobId: 'ok-1' });
    const bad = await queue.add('x', { fail: true }, { jobId: 'bad-1' });
    const stop = new AbortController().signal;
    assert.deepEqual(await pollUntilFinished(queue, ok.id ?? '', stop, 0.1), { echo: 7 });
    await assert.rejects(pollUntilFinished(queue, bad.id ?? '', stop, 0.1), /failed on purpose/);
    await assert.rejects(pollUntilFinished(queue, 'never-added', stop, 0.1), /no longer in the queue/);
  } finally {
    await worker.close();
    await queue.close();
    for (const c of connections) c.disconnect();
  }
});
