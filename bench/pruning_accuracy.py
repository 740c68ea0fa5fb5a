"""Accuracy vs sparsity: the DP allocation against the five baselines, with and without fine-tuning.

Models: scikit-learn MLPs on satimage, dna and digits; a LeNet-5-style CNN and a ResNet-style
CNN (PyTorch, CPU) on digits. For each model: train, compute the rate–distortion curves once
(256 calibration samples from the training set), then for each sparsity and allocator prune
one-shot, measure test accuracy, fine-tune briefly with the masks fixed, measure again.
The DP keeps at least one weight per output unit of each layer (``min_kept_per_unit=1``, the
default), measures the distortion on the class probabilities (``output='proba'``) and refines
its allocation on conditional curves (``n_refine=5``, the default; ``dp[n_refine=0]`` is the
paper's one-shot allocation, for comparison). ``dp_iter`` is the DP run iteratively (20 % of the
remaining weights per round, curves re-measured each round, no training between rounds).
``--validation`` trains on 80 % of the training set and reports the accuracy on the other 20 %
(the test set untouched): the defaults were chosen on that split, not on the test table.

Run: ``python bench/pruning_accuracy.py [--models digits_mlp,lenet5] [--out DIR]``. Writes a
markdown table (``accuracy.md``), a CSV and a plot (``accuracy.png``) to ``--out``. With
``--iterative``: the paper's protocol instead (rounds of 20 % of the remaining weights, one epoch of
masked fine-tuning after each round) for DP and the five baselines (``iterative.md``).
"""

from __future__ import annotations

import argparse
import copy
import csv
import logging
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
import pruning_models as pm

from optsolve.pruning import LayerAdaptivePruner, geometric_sparsity_schedule

SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
ALLOCATORS = ("dp", "lagrangian", "uniform", "uniform_plus", "global", "erk", "lamp")
MODELS = ("satimage_mlp", "dna_mlp", "digits_mlp", "lenet5", "resnet")
log = logging.getLogger("pruning_accuracy")
#: every model here is a classifier: the distortion is measured on its class probabilities
#: (the default for scikit-learn classifiers; a torch module's output is taken raw unless told)
PRUNER = dict(output="proba")


def build(name, seed, ft_epochs=3, validation=False):
    """(model, accuracy(model), fine_tune(model, masks, names), X_calib).

    ``validation=True``: the model is trained on 80 % of the training set and the accuracy
    measured on the other 20 % (the test set is not touched), for choosing settings.
    """
    task = name.split("_")[0] if name.endswith("_mlp") else "digits"
    Xtr, ytr, Xte, yte = pm.load_task(task, seed)
    if validation:
        Xtr, ytr, Xte, yte = pm.validation_split(Xtr, ytr, seed)
    rng = np.random.default_rng(seed)
    calib = Xtr[rng.choice(len(Xtr), pm.N_CALIB, replace=False)]
    if name.endswith("_mlp"):
        hidden = (128, 128) if task == "digits" else (256, 256)
        model = pm.train_sklearn_mlp(Xtr, ytr, hidden, seed)

        def acc(m):
            return pm.sklearn_accuracy(m, Xte, yte)

        def fine_tune(m, masks, names):
            return pm.sklearn_fine_tune(m, masks, Xtr, ytr, epochs=ft_epochs, seed=seed)

        return model, acc, fine_tune, calib
    import torch

    torch.manual_seed(seed)
    model = pm.torch_models()[name]()
    pm.train_torch(model, Xtr, ytr, epochs=40, seed=seed)

    def acc(m):
        return pm.torch_accuracy(m, Xte, yte)

    def fine_tune(m, masks, names):
        return pm.train_torch(m, Xtr, ytr, epochs=ft_epochs, lr=1e-3, seed=seed, masks=masks,
                              names=names)

    return model, acc, fine_tune, pm.to_images(calib)


def run_model(name, seed, sparsities, allocators, validation=False, variants=()):
    rows = []
    t0 = time.perf_counter()
    model, acc, fine_tune, calib = build(name, seed, validation=validation)
    dense = acc(model)
    t1 = time.perf_counter()
    ref = LayerAdaptivePruner(sparsity=0.5, n_refine=0, **PRUNER).fit(model, calib)  # curves only
    t_curves = time.perf_counter() - t1
    n_layers, n_levels = ref.curves_.kept.shape
    log.info("%s: dense acc %.4f (train %.1fs), curves %.2fs, %.1f forward passes (naive %d)",
             name, dense, t1 - t0, t_curves, ref.curve_forward_passes_,
             n_layers * (n_levels - 1) + 1)
    meta = dict(model=name, seed=seed, dense_acc=dense, n_layers=n_layers,
                n_weights=int(ref.curves_.n_weights.sum()),
                curve_forward_passes=ref.curve_forward_passes_,
                naive_forward_passes=n_layers * (n_levels - 1) + 1, curve_seconds=t_curves)
    for s in sparsities:
        for a in [*allocators, *variants]:
            kw = dict(allocator=a) if a in allocators else _variant(a)
            p = LayerAdaptivePruner(sparsity=s, **kw, **PRUNER)
            try:
                p.fit(model, calib, curves=ref.curves_)
            except ValueError as exc:  # uniform+ on a model whose first layer is too big
                rows.append(dict(meta, sparsity=s, allocator=a, acc=np.nan, acc_ft=np.nan,
                                 note=str(exc)[:60]))
                continue
            pruned = p.transform(model)
            a0 = acc(pruned)
            tuned = fine_tune(copy.deepcopy(pruned), [m.astype(float) for m in p.masks_],
                              p.layer_names_)
            rows.append(dict(meta, sparsity=s, allocator=a, acc=a0, acc_ft=acc(tuned),
                             pred_distortion=p.predicted_distortion_,
                             layer_sparsity=" ".join(f"{x:.3f}" for x in p.layer_sparsity_),
                             note=""))
    # DP, iterative (no training between rounds): one sweep through all targets
    schedule = sorted(set(geometric_sparsity_schedule(max(sparsities))) | set(sparsities))
    current, masks = model, None
    for s in schedule:
        p = LayerAdaptivePruner(sparsity=s, **PRUNER).fit(current, calib, masks=masks)
        masks, current = p.masks_, p.transform(current)
        if any(abs(s - t) < 1e-12 for t in sparsities):
            tuned = fine_tune(copy.deepcopy(current), [m.astype(float) for m in masks],
                              p.layer_names_)
            rows.append(dict(meta, sparsity=s, allocator="dp_iter", acc=acc(current),
                             acc_ft=acc(tuned), pred_distortion=p.predicted_distortion_,
                             layer_sparsity=" ".join(f"{x:.3f}" for x in p.layer_sparsity_),
                             note=f"{len(schedule)} rounds to {max(sparsities)}"))
    log.info("%s done in %.1fs", name, time.perf_counter() - t0)
    return rows


def _variant(spec):
    """``'dp[n_refine=0]'`` -> ``dict(allocator='dp', n_refine=0)``."""
    allocator, _, rest = spec.partition("[")
    kw = dict(allocator=allocator)
    for item in filter(None, rest.rstrip("]").split(";")):
        key, value = item.split("=")
        kw[key] = int(value)
    return kw


ITERATIVE_ALLOCATORS = ("dp", "uniform", "uniform_plus", "global", "erk", "lamp")


def run_iterative_fine_tuned(name, seed, sparsities, allocators=ITERATIVE_ALLOCATORS,
                             validation=False):
    """The paper's protocol: rounds of 20 % of the remaining weights, a 1-epoch fine-tune after
    each round, curves re-measured on the fine-tuned model (DP) every round."""
    rows = []
    model, acc, fine_tune1, calib = build(name, seed, ft_epochs=1, validation=validation)
    schedule = sorted(set(geometric_sparsity_schedule(max(sparsities))) | set(sparsities))
    for a in allocators:
        t0 = time.perf_counter()
        current, masks = model, None
        for s in schedule:
            p = LayerAdaptivePruner(sparsity=s, allocator=a, n_levels=51, **PRUNER)
            try:
                p.fit(current, calib, masks=masks)
            except ValueError as exc:  # uniform+ cannot reach this sparsity (first layer dense)
                log.info("%s %s at %.2f: %s", name, a, s, exc)
                rows += [dict(model=name, seed=seed, sparsity=t, allocator=f"{a}_iter_ft",
                              acc_ft=np.nan, rounds=len(schedule), layer_sparsity="")
                         for t in sparsities if t >= s - 1e-12]
                break
            masks, current = p.masks_, p.transform(current)
            current = fine_tune1(current, [m.astype(float) for m in masks], p.layer_names_)
            target = next((t for t in sparsities if abs(s - t) < 1e-12), None)
            if target is not None:
                rows.append(dict(model=name, seed=seed, sparsity=target, allocator=f"{a}_iter_ft",
                                 acc_ft=acc(current), rounds=len(schedule),
                                 layer_sparsity=" ".join(f"{x:.3f}" for x in p.layer_sparsity_)))
        log.info("%s %s iterative+fine-tune: %.1fs", name, a, time.perf_counter() - t0)
    return rows


def write_iterative_table(rows, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    allocs = list(dict.fromkeys(r["allocator"] for r in rows))
    lines = ["### Test accuracy (%), iterative prune (20 % of remaining per round) + 1-epoch "
             "fine-tune per round", "", "| model | sparsity | " + " | ".join(allocs) + " |",
             "|---|---|" + "---|" * len(allocs)]
    for m in dict.fromkeys(r["model"] for r in rows):
        for s in sorted({r["sparsity"] for r in rows}):
            vals = {r["allocator"]: r["acc_ft"] for r in rows if r["model"] == m
                    and abs(r["sparsity"] - s) < 1e-12}
            best = np.nanmax(list(vals.values()))
            cells = ["n/a" if not np.isfinite(vals[a]) else
                     f"**{100 * vals[a]:.1f}**" if vals[a] == best else f"{100 * vals[a]:.1f}"
                     for a in allocs]
            lines.append(f"| {m} | {s:.2f} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    (out / "iterative.md").write_text(text)
    return text


def write_outputs(rows, out: Path, allocators):
    out.mkdir(parents=True, exist_ok=True)
    keys = sorted({k for r in rows for k in r})
    with open(out / "accuracy.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    models = list(dict.fromkeys(r["model"] for r in rows))
    sparsities = sorted({r["sparsity"] for r in rows})
    allocs = [*allocators, *(a for a in dict.fromkeys(r["allocator"] for r in rows)
                             if a not in allocators)]
    lines = []
    for tag, key in (("one-shot, no fine-tuning", "acc"), ("after a short fine-tune", "acc_ft")):
        lines += [f"### Test accuracy (%), {tag}", "",
                  "| model | sparsity | " + " | ".join(allocs) + " |",
                  "|---|---|" + "---|" * len(allocs)]
        for m in models:
            for s in sparsities:
                vals = {r["allocator"]: r[key] for r in rows if r["model"] == m
                        and r["sparsity"] == s}
                cells = []
                finite = [v for v in vals.values() if np.isfinite(v)]
                for a in allocs:
                    v = vals.get(a, np.nan)
                    txt = "n/a" if not np.isfinite(v) else f"{100 * v:.1f}"
                    if finite and np.isfinite(v) and v == max(finite):
                        txt = f"**{txt}**"
                    cells.append(txt)
                lines.append(f"| {m} | {s:.2f} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["### Curve cost", "", "| model | layers | weights | dense acc | forward passes "
              "(reuse) | naive | seconds |", "|---|---|---|---|---|---|---|"]
    for m in models:
        r = next(r for r in rows if r["model"] == m)
        lines.append(f"| {m} | {r['n_layers']} | {r['n_weights']} | {100 * r['dense_acc']:.1f} "
                     f"| {r['curve_forward_passes']:.1f} | {r['naive_forward_passes']} | "
                     f"{r['curve_seconds']:.2f} |")
    (out / "accuracy.md").write_text("\n".join(lines) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "\n".join(lines)
    fig, axes = plt.subplots(2, len(models), figsize=(3.2 * len(models), 6), squeeze=False)
    for j, m in enumerate(models):
        for i, key in enumerate(("acc", "acc_ft")):
            ax = axes[i, j]
            for a in allocs:
                pts = sorted((r["sparsity"], r[key]) for r in rows
                             if r["model"] == m and r["allocator"] == a)
                if pts:
                    xs, ys = zip(*pts, strict=True)
                    style = "-o" if a.startswith("dp") else "--."
                    ax.plot(range(len(xs)), ys, style, label=a, ms=4)
            ax.set_xticks(range(len(sparsities)), [f"{s:.2f}" for s in sparsities], fontsize=7)
            ax.set_title(f"{m} ({'fine-tuned' if i else 'one-shot'})", fontsize=9)
            ax.set_ylim(0, 1)
    axes[0, 0].set_ylabel("test accuracy")
    axes[1, 0].set_ylabel("test accuracy")
    axes[0, -1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "accuracy.png", dpi=110)
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--out", default="/tmp/optsolve_pruning_bench")
    ap.add_argument("--sparsities", default=",".join(map(str, SPARSITIES)))
    ap.add_argument("--validation", action="store_true",
                    help="train on 80 %% of the training set, measure on the other 20 %% (for "
                    "choosing settings without looking at the test set)")
    ap.add_argument("--variants", default="dp[n_refine=0]",
                    help="extra DP columns, e.g. 'dp[n_refine=0],dp[n_refine=3;n_rounds=2]'")
    ap.add_argument("--iterative", action="store_true",
                    help="run the iterative prune + fine-tune protocol (dp and the baselines) "
                    "instead")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = []
    sparsities = tuple(map(float, args.sparsities.split(",")))
    variants = tuple(filter(None, args.variants.split(",")))
    with threadpool_limits(limits=1):
        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            pass
        for seed in map(int, args.seeds.split(",")):
            for name in args.models.split(","):
                if args.iterative:
                    rows += run_iterative_fine_tuned(name, seed, sparsities,
                                                     validation=args.validation)
                else:
                    rows += run_model(name, seed, sparsities, ALLOCATORS, args.validation,
                                      variants)
    if args.iterative:
        sys.stdout.write(write_iterative_table(rows, Path(args.out)))
        return
    text = write_outputs(rows, Path(args.out), ALLOCATORS)
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
