"""Plain-English captions that name some of an image's attributes, and which attributes each names."""

BG_WORD = {"plain": "plain", "noisy": "noisy", "striped": "striped"}

# Each template names a subset of {shape, colour, size, background, style}. Outline drawings are the held-out
# style: they are rare, and only a quarter of their captions name the shape (always as an outline), so the image
# tower learns to see shape in outlines (CoOp has something to build on) while hand-written "a photo of a {}."
# prompts fit them worse than filled shapes. A first run that never named an outline's shape left outline
# features shape-blind (zero-shot and every learned prompt at chance).
FILLED_TEMPLATES = [
    ("a photo of a {size} {colour} {shape} on a {background} background.", {"shape", "colour", "size", "background"}),
    ("a photo of a {colour} {shape}.", {"shape", "colour"}),
    ("a photo of a {shape}.", {"shape"}),
    ("a {shape}.", {"shape"}),
    ("a {colour} {shape}.", {"shape", "colour"}),
    ("a {size} {shape}.", {"shape", "size"}),
    ("a photo of a {colour} shape.", {"colour"}),
    ("a {shape} on a {background} background.", {"shape", "background"}),
    ("a picture of a {size} {shape} in {colour}.", {"shape", "colour", "size"}),
    ("a close photo of one {size} {colour} {shape}, drawn somewhere on a {background} background, seen from the front.",
     {"shape", "colour", "size", "background"}),
    ("this is a picture of a single {shape} shape, it is {colour} and {size}, and the background behind it is {background}.",
     {"shape", "colour", "size", "background"}),
    ("a filled {colour} {shape}.", {"shape", "colour", "style"}),
]
OUTLINE_SHAPE_TEMPLATES = [
    ("an outline drawing of a {shape}.", {"shape", "style"}),
    ("a {colour} outline of a {shape}.", {"shape", "colour", "style"}),
]
OUTLINE_TEMPLATES = [
    ("an outline drawing of a {colour} shape.", {"colour", "style"}),
    ("a {size} {colour} outline on a {background} background.", {"colour", "size", "background", "style"}),
    ("a line drawing in {colour}.", {"colour", "style"}),
    ("an outline of a shape.", {"style"}),
    ("a photo of a {colour} shape.", {"colour"}),
]


def caption(rng, attrs):
    if attrs["style"] == "outline":
        templates = OUTLINE_SHAPE_TEMPLATES if rng.random() < 0.25 else OUTLINE_TEMPLATES
    else:
        templates = FILLED_TEMPLATES
    t, named = templates[rng.integers(len(templates))]
    return t.format(**{**attrs, "background": BG_WORD[attrs["background"]]}), named


def all_caption_texts():
    """Every caption the templates can produce, for learning the BPE merges."""
    from shapes import SHAPES, COLOUR_NAMES, SIZES, BACKGROUNDS
    out = []
    for t, _ in FILLED_TEMPLATES + OUTLINE_TEMPLATES + OUTLINE_SHAPE_TEMPLATES:
        for s in SHAPES:
            for c in COLOUR_NAMES:
                for z in SIZES:
                    for b in BACKGROUNDS:
                        out.append(t.format(shape=s, colour=c, size=z, background=b))
    return out
