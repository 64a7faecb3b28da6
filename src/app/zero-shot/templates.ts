/** The single-template default, as in CLIP's and CoOp's zero-shot baselines. */
export const DEFAULT_TEMPLATE = 'a photo of a {}.';

/**
 * Templates offered for single use and averaged for prompt ensembling: a few of CLIP's ImageNet
 * templates that also suit the bundled toy model's sticker shapes.
 */
export const TEMPLATES: readonly string[] = [
  DEFAULT_TEMPLATE,
  'a {}.',
  'a picture of a {}.',
  'a photo of a small {}.',
  'a photo of a large {}.',
  'a {} on a striped background.',
  'an outline drawing of a {}.',
  'a close photo of one {}.',
];

export type TemplateChoice = { kind: 'single'; template: string } | { kind: 'ensemble'; templates: readonly string[] };

export function templatesOf(choice: TemplateChoice): readonly string[] {
  return choice.kind === 'single' ? [choice.template] : choice.templates;
}

/** A template must say where the class name goes. */
export function checkTemplate(template: string): string | null {
  return template.includes('{}') ? null : `The template "${template}" has no {} where the class name goes.`;
}

export const fillTemplate = (template: string, name: string) => template.replaceAll('{}', name);
