// A split as a list of source indices plus the transforms; batches are assembled into fresh Float32Arrays and
// prepared ahead: the iterator keeps the next batches in flight while the caller trains on the current one.
import { NasError } from '../common/errors.js';
import { rngFrom } from './augment.js';
import type { RawImage } from './image.js';
import { epochOrder } from './split.js';
import { ImageTransformer, type Preprocessing } from './transform.js';
import type { Batch, BatchOptions, Split, SplitName } from './types.js';

/** Images held in memory (MNIST, CIFAR): every image is available at once. */
export interface MemorySource {
  readonly kind: 'memory';
  readonly size: number;
  readonly labels: Int32Array;
  image(i: number): RawImage;
}

/** Images decoded on demand (folders): null marks an unreadable image, skipped from its batch. */
export interface AsyncSource {
  readonly kind: 'async';
  readonly size: number;
  readonly labels: Int32Array;
  fetch(ids: Int32Array): Promise<(RawImage | null)[]>;
}

export type ImageSource = MemorySource | AsyncSource;

function checkOptions(o: BatchOptions): void {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new NasError('E_USAGE', `batch size must be a positive integer, got ${o.batchSize}`);
  if (!Number.isInteger(o.epoch) || o.epoch < 0) throw new NasError('E_USAGE', `epoch must be a non-negative integer, got ${o.epoch}`);
  const start = o.startBatch ?? 0;
  if (!Number.isInteger(start) || start < 0) throw new NasError('E_USAGE', `startBatch must be a non-negative integer, got ${start}`);
}

export class ImageSplit implements Split {
  readonly name: SplitName;
  /** Source indices of this split's images, ascending. */
  readonly indices: Int32Array;
  private readonly source: ImageSource;
  private readonly transformer: ImageTransformer;
  private readonly ahead: number;

  constructor(name: SplitName, source: ImageSource, indices: Int32Array, pre: Preprocessing, ahead: number) {
    this.name = name;
    this.source = source;
    this.indices = indices;
    this.transformer = new ImageTransformer(pre);
    this.ahead = ahead;
  }

  get size(): number {
    return this.indices.length;
  }

  /** The label of each image of the split, in index order. */
  labels(): Int32Array {
    return this.indices.map((i) => this.source.labels[i]!);
  }

  batchCount(batchSize: number, dropLast = false): number {
    return dropLast ? Math.floor(this.size / batchSize) : Math.ceil(this.size / batchSize);
  }

  async *batches(opts: BatchOptions): AsyncGenerator<Batch> {
    checkOptions(opts);
    const total = this.batchCount(opts.batchSize, opts.dropLast);
    const start = opts.startBatch ?? 0;
    if (start > total) throw new NasError('E_USAGE', `startBatch ${start} is past the ${total} batches of the ${this.name} split`);
    const order = epochOrder(this.size, opts.shuffle, opts.seed, opts.epoch);
    const queue: Promise<Batch>[] = [];
    let next = start;
    const refill = (): void => {
      while (queue.length < this.ahead && next < total) {
        const p = this.prepare(order, next++, opts);
        // Errors surface when the batch is awaited; this only keeps an abandoned iterator from an unhandled rejection.
        p.catch(() => undefined);
        queue.push(p);
      }
    };
    refill();
    while (queue.length > 0) {
      const batch = await queue.shift()!;
      refill();
      yield batch;
    }
  }

  private prepare(order: Int32Array, b: number, opts: BatchOptions): Promise<Batch> {
    const from = b * opts.batchSize;
    const ids = order.subarray(from, Math.min(from + opts.batchSize, order.length)).map((p) => this.indices[p]!);
    const src = this.source;
    if (src.kind === 'async') return src.fetch(ids).then((images) => this.assemble(ids, images, b, opts));
    // Deferred so the work runs when the event loop is free (while the caller awaits its training step).
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(this.assemble(ids, Array.from(ids, (i) => src.image(i)), b, opts));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  private assemble(ids: Int32Array, images: readonly (RawImage | null)[], b: number, opts: BatchOptions): Batch {
    const { size, channels } = this.transformer.pre.input;
    const per = size * size * channels;
    const count = images.reduce((n, img) => (img ? n + 1 : n), 0);
    const out = new Float32Array(count * per);
    const labels = new Int32Array(count);
    const rng = opts.augment ? rngFrom(opts.seed, 'augment', opts.epoch, b) : null;
    let k = 0;
    images.forEach((img, j) => {
      if (!img) return;
      if (rng) this.transformer.trainInto(img, rng, out, k * per);
      else this.transformer.evalInto(img, out, k * per);
      labels[k] = this.source.labels[ids[j]!]!;
      k++;
    });
    return { images: out, labels, count, height: size, width: size, channels };
  }
}
