"""Reference dumps for the TypeScript engine: loss, logits and d(loss)/d(context) by PyTorch autograd.

/usr/bin/python3 dumps.py
For fixed image features, labels, class names and initial context vectors, on the bundled model, for unified and
class-specific context x class token at end / middle / front (all 77 positions, as the original computes them).
Writes tests/fixtures/coop-<unified|csc>-<position>.bin (+ a JSON case for `npm run coop:grad`) and
tests/fixtures/prompts.bin (text features of hand-written prompts).
"""
import json
import os
import numpy as np
import torch

import coop
import fixtures
from common import ROOT, load_model, load_tokenizer

OUT = os.path.join(ROOT, "tests", "fixtures")
CLASSNAMES = ["star", "red circle", "outline_drawing", "hexagon", "a large striped heart"]


def main():
    torch.set_num_threads(2)
    model, cfg = load_model()
    tok = load_tokenizer()
    for p in model.parameters():
        p.requires_grad_(False)
    E = cfg["projection_dim"]
    g = torch.Generator().manual_seed(1234)
    n, k = 9, len(CLASSNAMES)
    feats = torch.randn(n, E, generator=g)
    feats = feats / feats.norm(dim=-1, keepdim=True)
    labels = torch.randint(0, k, (n,), generator=g)
    scale = float(model.logit_scale.exp().clamp(max=100))
    os.makedirs(OUT, exist_ok=True)
    for csc in (False, True):
        for position in ("end", "middle", "front"):
            n_ctx = 4
            learner = coop.PromptLearner(model, tok, CLASSNAMES, n_ctx=n_ctx, csc=csc, position=position, seed=7)
            with torch.no_grad():  # a context with some structure, so the gradient is not tiny
                learner.ctx.copy_(torch.randn(learner.ctx.shape, generator=g) * 0.5)
            learner.ctx.requires_grad_(True)
            prompts = learner()
            eos = learner.tokenized.argmax(-1)
            txt = model.encode_text_embeds(prompts, eos)
            txt_n = txt / txt.norm(dim=-1, keepdim=True)
            logits = scale * feats @ txt_n.T
            loss = torch.nn.functional.cross_entropy(logits, labels)
            loss.backward()
            name = f"coop-{'csc' if csc else 'unified'}-{position}"
            meta = {"classnames": CLASSNAMES, "n_ctx": n_ctx, "csc": csc, "position": position, "logit_scale": scale,
                    "loss": float(loss), "model": "toy-clip"}
            fixtures.write(os.path.join(OUT, name + ".bin"), meta, {
                "ctx": learner.ctx.detach().numpy(), "image_features": feats.numpy(), "labels": labels.numpy().astype(np.int32),
                "logits": logits.detach().numpy(), "loss": np.array([float(loss)], np.float32), "grad": learner.ctx.grad.numpy(),
                "token_ids": learner.tokenized.numpy().astype(np.int32), "prompt_embeddings": prompts.detach().numpy(),
                "text_features": txt_n.detach().numpy(),
            })
            if not csc and position == "end":
                with open(os.path.join(OUT, name + ".case.json"), "w") as f:
                    json.dump({"classnames": CLASSNAMES, "n_ctx": n_ctx, "csc": csc, "position": position,
                               "ctx": learner.ctx.detach().numpy().ravel().tolist(),
                               "image_features": feats.numpy().tolist(), "labels": labels.tolist(),
                               "expected": {"loss": float(loss), "grad": learner.ctx.grad.numpy().ravel().tolist()}}, f)
            print(name, "loss", float(loss), "grad norm", float(learner.ctx.grad.norm()))
    texts = ["a photo of a star.", "a photo of a disc.", "a small red star on a striped background.", "", "X X X X star."]
    ids = torch.tensor(tok.tokenize(texts))
    with torch.no_grad():
        f = model.encode_text(ids)
    fixtures.write(os.path.join(OUT, "prompts.bin"), {"texts": texts}, {
        "input_ids": ids.numpy().astype(np.int32), "text_embeds": f.numpy()})


if __name__ == "__main__":
    main()
