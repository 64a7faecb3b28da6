/**
 * coop:grad's cases for the successors (scripts/coop-grad.ts): their parameters beside the context, read from the
 * case as PyTorch names them, and their gradients printed back under the same keys.
 *
 *   "method": "cocoop", "meta_net": {"linear1.weight": [[…]] ([out][in]), "linear1.bias", "linear2.weight", "linear2.bias"}
 *     → "grad_meta_net" with the same keys;
 *   "method": "deep", "deep_ctx": [flat M×width per block from 1] → "grad_deep_ctx";
 *   "method": "tcp", "tcp_mlp": {"meta_net.linear1.weight", …}, "hand_written" [K][E], "tcp_block", "tcp_weight"
 *     → "grad_tcp_mlp";
 *   "method": "dept-coop" | "dept-kgcoop", "dept": {"film_lp_img.scale", …, "linear_probe_proj.weight", …},
 *     "dept_lp_weight", and for KgCoOp "kg_weight", "kg_text_features" → "grad_dept".
 * A tensor is a nested list (its shape follows the nesting) or {"shape", "data"} (data flat, row-major).
 */
import type { NamedParam } from '../coop/context-init';
import { DEPT_DEFAULTS } from '../coop/dept';
import type { LearnerConfig, Successor } from '../coop/prompt-learner';
import { tcpBlock, TCP_DEFAULTS } from '../coop/tcp';

export interface CaseDims {
  K: number;
  E: number;
  D: number;
  L: number;
  logitScale: number;
}

type Tensor = number[] | number[][] | { shape: number[]; data: number[] };

/** The group of parameters a successor's case carries, its extras' name prefix and how they print. */
const GROUPS: Record<Successor, { key: string; prefix: string }> = {
  cocoop: { key: 'meta_net', prefix: 'meta_net.' },
  deep: { key: 'deep_ctx', prefix: 'deep_ctx.' },
  tcp: { key: 'tcp_mlp', prefix: 'meta_net.' },
  'dept-coop': { key: 'dept', prefix: '' },
  'dept-kgcoop': { key: 'dept', prefix: '' },
};

function readTensor(name: string, t: Tensor): { shape: number[]; data: Float32Array } {
  if (t && !Array.isArray(t) && Array.isArray(t.shape) && Array.isArray(t.data)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`'${name}': shape [${t.shape.join(', ')}] needs ${n} values, data has ${t.data.length}`);
    return { shape: [...t.shape], data: Float32Array.from(t.data) };
  }
  if (!Array.isArray(t)) throw new Error(`'${name}' must be a list of numbers, a list of rows, or {"shape", "data"}`);
  if (t.length > 0 && Array.isArray(t[0])) {
    const rows = t as number[][];
    const w = rows[0].length;
    if (rows.some((r) => !Array.isArray(r) || r.length !== w)) throw new Error(`'${name}': every row must have ${w} values`);
    return { shape: [rows.length, w], data: Float32Array.from(rows.flat()) };
  }
  return { shape: [t.length], data: Float32Array.from(t as number[]) };
}

function nested(p: NamedParam, data: Float32Array): number[] | number[][] {
  if (p.shape.length !== 2) return Array.from(data);
  const [r, c] = p.shape;
  return Array.from({ length: r }, (_, i) => Array.from(data.subarray(i * c, (i + 1) * c)));
}

function features(name: string, v: unknown, K: number, E: number): Float32Array {
  const rows = v as number[][] | undefined;
  if (!Array.isArray(rows) || rows.length !== K || rows.some((r) => !Array.isArray(r) || r.length !== E)) throw new Error(`'${name}' must be ${K} rows of ${E} values`);
  return Float32Array.from(rows.flat());
}

export interface SuccessorCase {
  cfg: LearnerConfig;
  extras: NamedParam[];
  /** The case's keys for the gradients of the extras: {"grad_meta_net": {...}} etc. */
  printGrads(gradExtras: readonly Float32Array[]): Record<string, unknown>;
}

export function successorCase(method: Successor, c: Record<string, unknown>, d: CaseDims): SuccessorCase {
  const { key, prefix } = GROUPS[method];
  const group = c[key];
  if (group === undefined) throw new Error(`a '${method}' case needs '${key}' (its parameters beside the context)`);
  let extras: NamedParam[];
  let given: string[];
  if (method === 'deep') {
    if (!Array.isArray(group) || group.length === 0) throw new Error(`'deep_ctx' must be a list of flat M×${d.D} arrays, one per block from 1`);
    if (group.length > d.L - 1) throw new Error(`'deep_ctx' has ${group.length} blocks; the model has blocks 1..${d.L - 1}`);
    extras = (group as number[][]).map((t, i) => {
      const M = t.length / d.D;
      if (!Number.isInteger(M) || M < 1) throw new Error(`deep_ctx[${i}] has ${t.length} values, not M×${d.D}`);
      return { name: `deep_ctx.${i + 1}`, shape: [M, d.D], data: Float32Array.from(t) };
    });
    given = extras.map((e) => e.name);
  } else {
    if (typeof group !== 'object' || group === null || Array.isArray(group)) throw new Error(`'${key}' must be an object of named tensors`);
    given = Object.keys(group);
    extras = given.map((n) => ({ name: n.startsWith(prefix) ? n : prefix + n, ...readTensor(`${key}.${n}`, (group as Record<string, Tensor>)[n]) }));
  }
  const base = { nClasses: d.K, dim: d.E, logitScale: d.logitScale };
  let cfg: LearnerConfig;
  if (method === 'cocoop') cfg = { method, cocoop: base };
  else if (method === 'deep') cfg = { method, deep: base };
  else if (method === 'tcp') {
    cfg = {
      method,
      tcp: {
        ...base,
        tokenDim: d.D,
        weight: typeof c.tcp_weight === 'number' ? c.tcp_weight : TCP_DEFAULTS.weight,
        block: typeof c.tcp_block === 'number' ? c.tcp_block : tcpBlock(d.L),
        handWritten: features('hand_written', c.hand_written, d.K, d.E),
      },
    };
  } else {
    const kg = method === 'dept-kgcoop' ? { weight: typeof c.kg_weight === 'number' ? c.kg_weight : DEPT_DEFAULTS.kgWeight, clipFeatures: features('kg_text_features', c.kg_text_features, d.K, d.E) } : undefined;
    cfg = { method, dept: { ...base, base: method === 'dept-coop' ? 'coop' : 'kgcoop', lpWeight: typeof c.dept_lp_weight === 'number' ? c.dept_lp_weight : DEPT_DEFAULTS.lpWeight, ...(kg ? { kgcoop: kg } : {}) } };
  }
  return {
    cfg,
    extras,
    printGrads: (g) => {
      if (method === 'deep') return { grad_deep_ctx: g.map((x) => Array.from(x)) };
      return { [`grad_${key}`]: Object.fromEntries(given.map((n, i) => [n, nested(extras[i], g[i])])) };
    },
  };
}
