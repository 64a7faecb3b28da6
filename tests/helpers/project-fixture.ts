/** A small project (two classes, a test set, one run with its checkpoint) for the project-file tests. */
import { withDefaults } from '../../src/coop/settings';
import { WORKSPACE_VERSION, type RunRecord, type WorkspaceRecord } from '../../src/session/records';
import type { ProjectContents } from '../../src/session/project-file';

export const FP = 'ab'.repeat(32);

export function project(): ProjectContents {
  const ctx = { data: Float32Array.from({ length: 2 * 4 }, (_, i) => Math.fround(Math.sin(i) / 7)), nCtx: 2, dim: 4, cscClasses: 0 };
  const settings = withDefaults({ nCtx: 2, epochs: 2 });
  const workspace: WorkspaceRecord = {
    version: WORKSPACE_VERSION,
    model: 'toy-clip',
    classes: [
      { name: 'circle', images: [{ key: 'a', name: 'a.png', split: 'train' }] },
      { name: 'square', images: [{ key: 'b', name: 'b.jpg', split: 'test' }], new: true },
    ],
    extraSets: [{ name: 'shifted', items: [{ key: 'c', name: 'c.png', label: 'square' }] }],
    holdOut: 0.25,
    settings,
    position: 'end',
    activeRunId: 'r1',
    overlay: [],
  };
  const run: RunRecord = {
    id: 'r1',
    name: 'Run 1',
    created: '2026-01-01T00:00:00.000Z',
    model: { folder: 'toy-clip', id: 'toy-clip', fingerprint: FP },
    settings,
    position: 'end',
    dataKey: 'k',
    status: 'done',
    error: null,
    loss: [{ step: 1, loss: 0.5, epoch: 1, lr: 0.002 }],
    epochs: [{ epoch: 1, train: 50, test: 25 }],
    progress: null,
    view: {
      classNames: ['circle', 'square'],
      nCtx: 2,
      csc: false,
      maxEpochs: 2,
      stepsPerEpoch: 1,
      note: null,
      labels: { train: Int32Array.from([0]), test: Int32Array.from([1]) },
      nTrain: 1,
      context: ctx,
      textFeatures: new Float32Array(8).fill(0.25),
      predictions: { train: Int32Array.from([0]) },
      accuracies: { train: 1, test: 0 },
      epoch: 2,
      step: 2,
      baselines: { hand: null, linearProbe: { train: 1 } },
    },
    checkpoint: { context: ctx, momentum: new Float32Array(8).fill(1e-3), epoch: 2, batch: 0, step: 2, elapsedMs: 12 },
  };
  const blob = (s: string) => new Blob([s], { type: 'image/png' });
  return { workspace, images: [{ key: 'a', name: 'a.png', blob: blob('A') }, { key: 'b', name: 'b.jpg', blob: blob('BB') }, { key: 'c', name: 'c.png', blob: blob('CCC') }], runs: [run], model: { id: 'toy-clip', folder: 'toy-clip', fingerprint: FP } };
}

