import { grid } from '../../gpu/dispatch';
import { ELEM_WG } from './wgsl';

/** Workgroups for one thread per element, laid out under the per-dimension limit. */
export function elementGrid(count: number): [number, number] {
  return grid(Math.ceil(count / ELEM_WG));
}

/** Workgroups for one workgroup per row. */
export function rowGrid(rows: number): [number, number] {
  return grid(rows);
}
