import type { ComponentType } from 'react';
import { ZeroShotPage } from './zero-shot/ZeroShotPage';
import { TrainPage } from './train/TrainPage';

/** A page of the app, shown as a tab. Add new pages (e.g. "Train (CoOp)") to SECTIONS. */
export interface Section {
  id: string;
  title: string;
  Component: ComponentType;
}

/** The first is the page a bare link opens: training is what people come for; zero-shot is one click away. */
export const SECTIONS: readonly Section[] = [
  { id: 'train', title: 'Train (CoOp)', Component: TrainPage },
  { id: 'zero-shot', title: 'Zero-shot', Component: ZeroShotPage },
];
