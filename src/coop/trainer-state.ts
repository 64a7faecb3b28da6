/**
 * The trainer's optimizer state in and out of a checkpoint (trainer.ts TrainerCheckpoint). The checkpoint keeps its
 * first layout for CoOp (`momentum`: the context's SGD buffer), so records saved before extras and Adam still
 * restore; the extras' SGD buffers and Adam's per-tensor state sit beside it. Every array is checked against the
 * run's tensors before anything is restored: a checkpoint comes from IndexedDB or a project file.
 */
import { cloneAdamState, type AdamState } from './adam';
import type { NamedParam } from './context-init';
import type { OptimizerName, OptimizerState } from './param-optimizer';
import type { TrainerCheckpoint } from './trainer';

type OptimizerFields = Pick<TrainerCheckpoint, 'momentum' | 'extrasMomentum' | 'adam'>;

/** Copies of the state, in the checkpoint's fields; `extrasMomentum` only when there are extras, as before them. */
export function checkpointOptimizer(opt: OptimizerState, nExtras: number): OptimizerFields {
  if (opt.kind === 'adam') return { momentum: null, adam: opt.tensors.map(cloneAdamState) };
  const bufs = opt.tensors.map((t) => (t.momentumBuffer ? t.momentumBuffer.slice() : null));
  return { momentum: bufs[0], ...(nExtras > 0 ? { extrasMomentum: bufs.slice(1) } : {}) };
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** What differs between a checkpoint's extras and the run's (names, shapes, sizes), or null when they match. */
export function extrasMismatch(saved: readonly NamedParam[] | undefined, run: readonly NamedParam[] | undefined): string | null {
  const a = saved ?? [];
  const b = run ?? [];
  if (a.length !== b.length) return `context has ${a.length} extra tensors, this run's ${b.length}`;
  for (let j = 0; j < b.length; j++) {
    const p = a[j];
    const q = b[j];
    if (p.name !== q.name) return `extra tensor ${j} is ${JSON.stringify(p.name)}, this run's ${JSON.stringify(q.name)}`;
    if (!sameShape(p.shape, q.shape)) return `${q.name} has shape [${p.shape.join(', ')}], this run's [${q.shape.join(', ')}]`;
    if (!(p.data instanceof Float32Array) || p.data.length !== q.data.length) return `${q.name} holds ${p.data?.length} values, this run's ${q.data.length}`;
  }
  return null;
}

function buffer(b: unknown, n: number, what: string): Float32Array | null {
  if (b === null || b === undefined) return null;
  if (!(b instanceof Float32Array) || b.length !== n) throw new RangeError(`the checkpoint's ${what} has ${(b as Float32Array)?.length} values, the tensor ${n}`);
  return b.slice();
}

/**
 * The optimizer state a checkpoint continues with, for a run training `kind` on tensors of `lengths` (the context's,
 * then each extra's); throws a RangeError saying what does not fit. A checkpoint before the first step carries no
 * state and fits either optimizer.
 */
export function optimizerFromCheckpoint(cp: OptimizerFields & { step: number }, kind: OptimizerName, lengths: number[]): OptimizerState {
  const names = (i: number) => (i === 0 ? 'context' : `extra tensor ${i - 1}`);
  if (kind === 'sgd') {
    if (cp.adam) throw new RangeError("the checkpoint was taken with Adam, but this run trains with SGD");
    const extras = cp.extrasMomentum ?? [];
    if (lengths.length > 1 && cp.momentum && !cp.extrasMomentum) throw new RangeError("the checkpoint has no momentum for the context's extra tensors");
    if (cp.extrasMomentum && extras.length !== lengths.length - 1) throw new RangeError(`the checkpoint has momentum for ${extras.length} extra tensors, this run ${lengths.length - 1}`);
    return {
      kind,
      tensors: lengths.map((n, i) => ({ momentumBuffer: buffer(i === 0 ? cp.momentum : extras[i - 1], n, `momentum of the ${names(i)}`) })),
    };
  }
  if (!cp.adam) {
    if (cp.step > 0 || cp.momentum) throw new RangeError('the checkpoint was taken with SGD, but this run trains with Adam');
    return { kind, tensors: lengths.map(() => ({ step: 0, expAvg: null, expAvgSq: null })) };
  }
  if (cp.adam.length !== lengths.length) throw new RangeError(`the checkpoint has Adam's state for ${cp.adam.length} tensors, this run ${lengths.length}`);
  const tensors = cp.adam.map((s: AdamState, i): AdamState => {
    const what = `Adam state of the ${names(i)}`;
    // Every tensor is stepped at every step, so its count is the run's; moments exist exactly after the first.
    if (s.step !== cp.step) throw new RangeError(`the checkpoint's ${what} counts ${s.step} steps, the run ${cp.step}`);
    const expAvg = buffer(s.expAvg, lengths[i], `${what} (first moment)`);
    const expAvgSq = buffer(s.expAvgSq, lengths[i], `${what} (second moment)`);
    if ((expAvg === null) !== (s.step === 0) || (expAvgSq === null) !== (s.step === 0)) throw new RangeError(`the checkpoint's ${what} lacks its moments`);
    return { step: s.step, expAvg, expAvgSq };
  });
  return { kind, tensors };
}
