"""The lr schedule CoOp trains with, as Dassl builds it."""


class ConstantWarmup:
    """Dassl's ConstantWarmupScheduler (dassl/optim/lr_scheduler.py), same semantics, our own code: the optimizer's
    lr is `cons_lr` for the first `warmup` epochs, then the successor's (CosineAnnealingLR) own schedule, whose
    counting starts when the warmup ends (WARMUP_RECOUNT = True, Dassl's default and CoOp's)."""

    def __init__(self, opt, successor, warmup, cons_lr):
        self.opt, self.successor, self.warmup, self.cons_lr = opt, successor, warmup, cons_lr
        self.last_epoch = 0
        self._set(cons_lr if warmup > 0 else successor.get_last_lr()[0])

    def _set(self, lr):
        for g in self.opt.param_groups:
            g["lr"] = lr

    def step(self):
        if self.last_epoch >= self.warmup:
            self.successor.step()  # sets the optimizer's lr itself
        else:
            self.last_epoch += 1
            self._set(self.cons_lr if self.last_epoch < self.warmup else self.successor.get_last_lr()[0])
