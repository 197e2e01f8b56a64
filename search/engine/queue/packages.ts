// BullMQ and ioredis, loaded when a queue is first used (common/lazyPackage.ts says why): every `nas` command's
// start imports the engine factory, and only `--queue` needs them.
import type * as Bullmq from 'bullmq';
import type * as IORedis from 'ioredis';
import { lazyPackage } from '../../../common/lazyPackage.js';

export const bullmq = lazyPackage<typeof Bullmq>('bullmq');
export const ioredis = lazyPackage<typeof IORedis>('ioredis');
