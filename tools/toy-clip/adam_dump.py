"""Reference trajectory of torch.optim.Adam as Dassl builds it for OPTIM.NAME "adam" (Dassl.pytorch
dassl/optim/optimizer.py: Adam(params, lr, weight_decay=OPTIM.WEIGHT_DECAY, betas=(ADAM_BETA1, ADAM_BETA2)), with
Dassl's defaults 0.9 / 0.999 and PyTorch's eps 1e-8), for src/coop/adam.ts.

Two fp32 tensors in two parameter groups, the second at 6.5x the lr (DePT's head: its optim.py puts the new layers in
a group at lr * LR_EXP), fixed gradients, a per-step lr as the trainer's schedule would set it (constant warmup, then
cosine values). Saves the parameters after every step and both moments after the last. No model needed.

/usr/bin/python3 adam_dump.py   (from tools/toy-clip; writes tests/fixtures/methods/adam.bin)
"""
import os
import numpy as np
import torch

import fixtures
from common import ROOT

OUT = os.path.join(ROOT, "tests", "fixtures", "methods", "adam.bin")
WD = 5e-4
LR_SCALE_B = 6.5
LRS = [1e-5, 2e-3, 1.9e-3, 1.5e-3, 1e-3, 5e-4, 2e-4]


def main():
    g = torch.Generator().manual_seed(19)
    a0 = torch.randn(4, 8, generator=g) * 0.02
    b0 = torch.randn(3, 5, generator=g)
    steps = len(LRS)
    ga = torch.randn(steps, 4, 8, generator=g)
    gb = torch.randn(steps, 3, 5, generator=g) * 0.1
    # Tiny and zero gradients, where eps and the weight decay term dominate the update.
    ga[:, 0, :] *= 1e-7
    gb[2:, 1, :] = 0.0
    a = a0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    opt = torch.optim.Adam([{"params": [a]}, {"params": [b]}], lr=LRS[0], weight_decay=WD, betas=(0.9, 0.999))
    pa, pb = [], []
    for t, lr in enumerate(LRS):
        opt.param_groups[0]["lr"] = lr
        opt.param_groups[1]["lr"] = lr * LR_SCALE_B
        a.grad = ga[t].clone()
        b.grad = gb[t].clone()
        opt.step()
        pa.append(a.detach().clone())
        pb.append(b.detach().clone())
    sa, sb = opt.state[a], opt.state[b]
    meta = {"torch": torch.__version__, "lrs": LRS, "weight_decay": WD, "betas": [0.9, 0.999], "eps": 1e-8,
            "lr_scale_b": LR_SCALE_B, "steps": steps}
    fixtures.write(OUT, meta, {
        "a0": a0.numpy(), "b0": b0.numpy(), "grad_a": ga.numpy(), "grad_b": gb.numpy(),
        "params_a": torch.stack(pa).numpy(), "params_b": torch.stack(pb).numpy(),
        "exp_avg_a": sa["exp_avg"].numpy(), "exp_avg_sq_a": sa["exp_avg_sq"].numpy(),
        "exp_avg_b": sb["exp_avg"].numpy(), "exp_avg_sq_b": sb["exp_avg_sq"].numpy(),
        "step": np.array([int(sa["step"])], dtype=np.int32),
    })
    print("wrote", OUT, meta)


if __name__ == "__main__":
    main()
