/**
 * Whether the PyTorch reference numbers (public/samples/baselines.json) belong beside this run: they were measured
 * for one model (its id and text weights' digest) on one task (its classes). Any other model, or other classes,
 * shows this browser's numbers alone.
 */
export interface ReferenceIdentity {
  model?: { id?: string; text_model_sha256?: string };
  classes?: string[];
}

export function referenceApplies(ref: ReferenceIdentity | null, model: { id: string; text_model_sha256?: string }, classNames: readonly string[]): boolean {
  if (!ref?.model?.id || ref.model.id !== model.id) return false;
  if (ref.model.text_model_sha256 && ref.model.text_model_sha256 !== model.text_model_sha256) return false;
  if (!ref.classes || ref.classes.length !== classNames.length) return false;
  const mine = new Set(classNames.map((n) => n.trim()));
  return ref.classes.every((c) => mine.has(c));
}
