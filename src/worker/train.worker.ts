/// <reference lib="webworker" />
/** The training worker's entry: messages in, the session's replies out (their buffers transferred). */
import { compactViews, errorMessage, transferablesOf, type WorkerReply, type WorkerRequest } from './protocol';
import { createEngine } from './engine-factory';
import { TrainSession } from './train-session';

const scope = self as unknown as DedicatedWorkerGlobalScope;

function post(reply: WorkerReply): void {
  const message = compactViews(reply);
  scope.postMessage(message, transferablesOf(message));
}

const session = new TrainSession(post, createEngine);

scope.onmessage = (e: MessageEvent<WorkerRequest>) => {
  void session.handle(e.data);
};

scope.onerror = (e) => {
  post({ type: 'error', during: 'worker', message: errorMessage((e as ErrorEvent).error ?? (e as ErrorEvent).message) });
};
