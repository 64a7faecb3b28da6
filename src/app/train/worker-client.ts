/** The page's handle on the training worker: typed requests, and awaiting a reply of a given type. */
import type { WorkerReply, WorkerRequest } from '../../worker/protocol';

type ReplyOf<T extends WorkerReply['type']> = Extract<WorkerReply, { type: T }>;

export class TrainWorkerClient {
  private readonly worker: Worker;
  private readonly waiters: Array<{ type: WorkerReply['type']; during: WorkerRequest['type']; resolve: (r: WorkerReply) => void; reject: (e: Error) => void }> = [];

  constructor(private readonly onReply: (reply: WorkerReply) => void) {
    this.worker = new Worker(new URL('../../worker/train.worker.ts', import.meta.url), { type: 'module', name: 'coop-train' });
    this.worker.onmessage = (e: MessageEvent<WorkerReply>) => this.dispatch(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.dispatch({ type: 'error', during: 'worker', message: `The training worker failed: ${e.message || 'unknown error'}` });
    };
  }

  private dispatch(reply: WorkerReply): void {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      if (reply.type === w.type) {
        this.waiters.splice(i--, 1);
        w.resolve(reply);
      } else if (reply.type === 'error' && (reply.during === w.during || reply.during === 'worker')) {
        this.waiters.splice(i--, 1);
        w.reject(new Error(reply.message));
      }
    }
    this.onReply(reply);
  }

  post(req: WorkerRequest): void {
    this.worker.postMessage(req);
  }

  /** Posts `req` and resolves with the first reply of type `type`, or rejects with the worker's error for it. */
  request<T extends WorkerReply['type']>(req: WorkerRequest, type: T): Promise<ReplyOf<T>> {
    const p = new Promise<ReplyOf<T>>((resolve, reject) => {
      this.waiters.push({ type, during: req.type, resolve: resolve as (r: WorkerReply) => void, reject });
    });
    this.post(req);
    return p;
  }

  terminate(): void {
    this.worker.terminate();
    for (const w of this.waiters.splice(0)) w.reject(new Error('the training worker was stopped'));
  }
}
