"""Reference dumps for the feature-only baselines CLAP, LP++, TaskRes and CLIP-Adapter, by PyTorch autograd and its
optimizers, following the official formulas (read, not copied):

- CLAP (jusiro/CLAP trainers/adapters.py, configs/trainers/SGD_lr1e-1_B256_ep300.yaml): W from the anchors t,
  logits = 100 f^ W^T (both normalized), loss = CE + mean_c lambda_c ||W_c - t_c||^2, lambda_c = the class's mean
  zero-shot softmax probability over its support views (init_lagrangian_multipliers), SGD momentum 0.9, constant
  warm-up epoch then cosine per epoch.
- LP++ (FereshteShakeri/FewShot-CLIP-Strong-Baseline methods/linear_probe_p2.py, methods/utils.py): W = class sums,
  alpha0 = 250 x mean class-centroid similarity, lr_w = 4N / eigmax(F^T F), lr_alpha = N / (4 max_k sum_i (f_i t_k)^2),
  full batch SGD(momentum 0.9) on W, b; alpha stepped every 10 epochs with its never-zeroed gradient; the epoch with
  the best validation accuracy (>=) kept.
- TaskRes (geekyutao/TaskRes trainers/taskres.py, adam configs): P = t + alpha X, X = 0, logits = 100 f^ P^^T, Adam
  with Dassl's weight decay 5e-4.
- CLIP-Adapter (gaopengcuhk/CLIP-Adapter clip_adapter.py): f' = 0.2 ReLU(W2 ReLU(W1 f)) + 0.8 f, logits =
  100 f'^ t^^T, SGD momentum 0.9, weight decay 5e-4 (CoOp's optimizer).

Float64 throughout, so the comparison is of formulas, not of rounding. The batches of each step are drawn here and
written out, so the tests replay exactly these batches.

/usr/bin/python3 adapter_dumps.py   (from tools/toy-clip; writes tests/fixtures/methods/adapters.bin)
"""
import math
import os
import numpy as np
import torch
import torch.nn.functional as F

import fixtures

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "methods", "adapters.bin")
torch.set_default_dtype(torch.float64)


def dassl_lr(epoch, max_epoch, lr, warmup=1, warmup_lr=1e-5):
    # ConstantWarmupScheduler around CosineAnnealingLR(T_max=max_epoch), stepped per epoch.
    if epoch < warmup:
        return warmup_lr
    return 0.5 * lr * (1 + math.cos(math.pi * (epoch - warmup) / max_epoch))


def set_lr(opt, lr):
    for g in opt.param_groups:
        g["lr"] = lr


def norm(x):
    return x / x.norm(dim=-1, keepdim=True)


def image_plan(rng, n, views, batch, epochs):
    # One view per image per epoch, Dassl's drop_last count (the CoOp sampler's shape).
    nb = n // batch if n >= batch else 1
    size = batch if n >= batch else n
    imgs, vs = [], []
    for _ in range(epochs):
        order = rng.permutation(n)
        vsel = rng.integers(0, views, size=n)
        for b in range(nb):
            idx = order[b * size:(b + 1) * size]
            imgs.append(idx)
            vs.append(vsel[idx])
    return np.stack(imgs), np.stack(vs)


def pooled_plan(rng, n, views, batch, epochs):
    # CLAP's run_epoch: all n*views samples shuffled, as many batches as the image loader has.
    nb = n // batch if n >= batch else 1
    size = min(batch, n * views)
    imgs, vs = [], []
    for _ in range(epochs):
        order = rng.permutation(n * views)
        for b in range(nb):
            k = order[b * size:(b + 1) * size]
            imgs.append(k // views)
            vs.append(k % views)
    return np.stack(imgs), np.stack(vs)


def clap_case(views_f, labels, anchors, scale, C, plan, epochs, lr):
    n, V, E = views_f.shape
    flat = views_f.reshape(n * V, E)
    flat_labels = labels.repeat_interleave(V)
    with torch.no_grad():
        zs = scale * norm(flat) @ norm(anchors).t()
        onehot = F.one_hot(flat_labels, C).double()
        lam = torch.diag(torch.softmax(zs, -1).t() @ onehot) / onehot.sum(0)
    W = torch.nn.Parameter(anchors.clone())
    opt = torch.optim.SGD([W], lr=lr, momentum=0.9, weight_decay=0.0)
    imgs, vs = plan
    per = len(imgs) // epochs
    losses, first = [], {}
    for ep in range(epochs):
        set_lr(opt, dassl_lr(ep, epochs, lr))
        for j in range(per):
            s = ep * per + j
            f = views_f[imgs[s], vs[s]]
            logits = scale * norm(f) @ norm(W).t()
            loss = F.cross_entropy(logits, labels[imgs[s]]) + torch.mean(lam * (W - anchors).pow(2).sum(-1))
            opt.zero_grad()
            loss.backward()
            if s == 0:
                first = {"clap_logits0": logits.detach().numpy(), "clap_grad0": W.grad.numpy().copy()}
            opt.step()
            if s == 0:
                first["clap_w1"] = W.detach().numpy().copy()
            losses.append(float(loss))
    return {"clap_lambda": lam.numpy(), **first, "clap_losses": np.array(losses), "clap_weights": W.detach().numpy(),
            "clap_plan_images": imgs.astype(np.int32), "clap_plan_views": vs.astype(np.int32)}


def taskres_case(views_f, labels, text, alpha, scale, plan, epochs, lr):
    X = torch.nn.Parameter(torch.zeros_like(text))
    opt = torch.optim.Adam([X], lr=lr, weight_decay=5e-4)
    imgs, vs = plan
    per = len(imgs) // epochs
    losses, first = [], {}
    for ep in range(epochs):
        set_lr(opt, dassl_lr(ep, epochs, lr))
        for j in range(per):
            s = ep * per + j
            f = views_f[imgs[s], vs[s]]
            logits = scale * norm(f) @ norm(text + alpha * X).t()
            loss = F.cross_entropy(logits, labels[imgs[s]])
            opt.zero_grad()
            loss.backward()
            if s == 0:
                first = {"taskres_logits0": logits.detach().numpy(), "taskres_grad0": X.grad.numpy().copy()}
            opt.step()
            if s == 0:
                first["taskres_x1"] = X.detach().numpy().copy()
            losses.append(float(loss))
    return {**first, "taskres_losses": np.array(losses), "taskres_residual": X.detach().numpy(),
            "taskres_plan_images": imgs.astype(np.int32), "taskres_plan_views": vs.astype(np.int32)}


def clip_adapter_case(views_f, labels, text, scale, plan, epochs, lr, seed):
    E = views_f.shape[-1]
    torch.manual_seed(seed)
    mlp = torch.nn.Sequential(torch.nn.Linear(E, E // 4, bias=False), torch.nn.ReLU(inplace=True),
                              torch.nn.Linear(E // 4, E, bias=False), torch.nn.ReLU(inplace=True))
    w1_0 = mlp[0].weight.detach().numpy().copy()
    w2_0 = mlp[2].weight.detach().numpy().copy()
    opt = torch.optim.SGD(mlp.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    imgs, vs = plan
    per = len(imgs) // epochs
    losses, first = [], {}
    t = norm(text)
    for ep in range(epochs):
        set_lr(opt, dassl_lr(ep, epochs, lr))
        for j in range(per):
            s = ep * per + j
            f = views_f[imgs[s], vs[s]]
            x = mlp(f)
            fa = 0.2 * x + 0.8 * f
            logits = scale * norm(fa) @ t.t()
            loss = F.cross_entropy(logits, labels[imgs[s]])
            opt.zero_grad()
            loss.backward()
            if s == 0:
                first = {"ca_logits0": logits.detach().numpy(), "ca_grad_w1": mlp[0].weight.grad.numpy().copy(),
                         "ca_grad_w2": mlp[2].weight.grad.numpy().copy()}
            opt.step()
            losses.append(float(loss))
    return {"ca_w1_init": w1_0, "ca_w2_init": w2_0, **first, "ca_losses": np.array(losses),
            "ca_w1": mlp[0].weight.detach().numpy(), "ca_w2": mlp[2].weight.detach().numpy(),
            "ca_plan_images": imgs.astype(np.int32), "ca_plan_views": vs.astype(np.int32)}


def lpp_case(feats, labels, text, C, shots, val, val_labels, epochs, seed, prefix):
    N, E = feats.shape
    T = text.t()  # [E, C], as the official's clip_weights
    onehot = F.one_hot(labels, C).double()
    centroids = onehot.t() @ feats  # class sums
    torch.manual_seed(seed)
    clf = torch.nn.Linear(E, C, bias=True)
    b0 = clf.bias.detach().numpy().copy()
    clf.weight.data = centroids.clone()
    ft = feats @ T
    alpha_tilde = (onehot.t() @ ft) / onehot.sum(0)[:, None]  # class means of f.t_k, [C, C]
    alpha0 = torch.mean(250 / shots * (alpha_tilde * shots))
    alpha = (alpha0 * torch.ones(1, C)).requires_grad_(True)
    lr_w = 4 * N / float(torch.linalg.eigvalsh(feats.t() @ feats).max())
    lr_alpha = N / (float(torch.sum(ft.pow(2), dim=0).max()) * 4)
    opt = torch.optim.SGD(clf.parameters(), lr_w, momentum=0.9)
    best_acc, best_epoch, best, losses, first = 0.0, 0, None, [], {}
    for ep in range(epochs):
        logits = clf(feats) + torch.ones(N, 1) @ alpha * ft
        loss = F.cross_entropy(logits, labels)
        if ep == 0:
            first = {prefix + "logits0": logits.detach().numpy()}
        opt.zero_grad()
        loss.backward()
        opt.step()
        if ep == 0:
            first[prefix + "w1"] = clf.weight.detach().numpy().copy()
        if (ep + 1) % 10 == 0:
            alpha.data -= lr_alpha * alpha.grad.data
        losses.append(float(loss))
        if val is not None:
            with torch.no_grad():
                lv = clf(val) + torch.ones(val.shape[0], 1) @ alpha * (val @ T)
                acc = float((lv.argmax(1) == val_labels).double().mean()) * 100
            if acc >= best_acc:
                best_acc, best_epoch = acc, ep + 1
                best = (clf.weight.detach().numpy().copy(), clf.bias.detach().numpy().copy(), alpha.detach().numpy().ravel().copy())
    if val is None:
        best = (clf.weight.detach().numpy(), clf.bias.detach().numpy(), alpha.detach().numpy().ravel())
        best_epoch = epochs
    meta = {"alpha0": float(alpha0), "lr_w": lr_w, "lr_alpha": lr_alpha, "epoch": best_epoch, "val_acc": best_acc if val is not None else None}
    return meta, {prefix + "bias0": b0, **first, prefix + "losses": np.array(losses), prefix + "weights": best[0],
                  prefix + "bias": best[1], prefix + "alpha": best[2]}


def main():
    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(2024)
    C, shots, V, E = 4, 3, 5, 32
    labels = torch.arange(C).repeat_interleave(shots)
    n = labels.numel()
    # Unnormalized text anchors (CLAP keeps the template mean unnormalized), class offsets zero-shot cannot know.
    text = 3.0 * torch.randn(C, E, generator=g)
    offset = 0.9 * torch.randn(C, E, generator=g)
    base = norm(text)[labels] + offset[labels] + 0.4 * torch.randn(n, E, generator=g)
    views_f = norm(base[:, None, :] + 0.3 * torch.randn(n, V, E, generator=g))
    val_labels = torch.arange(C).repeat(3)
    val = norm(norm(text)[val_labels] + offset[val_labels] + 4.0 * torch.randn(val_labels.numel(), E, generator=g))
    scale = 100.0
    rng = np.random.default_rng(11)
    epochs, batch = 4, 5
    out = {"view_features": views_f.numpy(), "labels": labels.numpy().astype(np.int32), "text": text.numpy(),
           "val_features": val.numpy(), "val_labels": val_labels.numpy().astype(np.int32)}
    out.update(clap_case(views_f, labels, text, scale, C, pooled_plan(rng, n, V, batch, epochs), epochs, 0.1))
    out.update(taskres_case(views_f, labels, text, 0.5, scale, image_plan(rng, n, V, batch, epochs), epochs, 2e-3))
    # A larger lr than CoOp's 0.002, so four epochs move the weights well past their start.
    out.update(clip_adapter_case(views_f, labels, text, scale, image_plan(rng, n, V, batch, epochs), epochs, 0.5, 3))
    # LP++ on each image's first view, with the normalized text (the official's clip_weights), 30 epochs: 3 alpha steps.
    feats = views_f[:, 0, :].contiguous()
    lpp_meta, lpp = lpp_case(feats, labels, norm(text), C, shots, val, val_labels, 30, 5, "lpp_")
    lpp_last_meta, lpp_last = lpp_case(feats, labels, norm(text), C, shots, None, None, 30, 5, "lpp_last_")
    out.update(lpp)
    out.update(lpp_last)
    meta = {"n_classes": C, "shots": shots, "views": V, "dim": E, "scale": scale, "epochs": epochs, "batch": batch,
            "clap_lr": 0.1, "taskres_lr": 2e-3, "taskres_alpha": 0.5, "ca_lr": 0.5, "lpp_epochs": 30,
            "lpp": lpp_meta, "lpp_last": lpp_last_meta}
    fixtures.write(OUT, meta, out)
    print("clap losses", out["clap_losses"])
    print("taskres losses", out["taskres_losses"])
    print("clip-adapter losses", out["ca_losses"])
    print("lp++", lpp_meta, "last", lpp_last_meta)


if __name__ == "__main__":
    main()
