"""Accuracy vs sparsity: the DP allocation against the five baselines, with and without fine-tuning.

Models: scikit-learn MLPs on satimage, dna and digits; a LeNet-5-style CNN, a ResNet-style CNN and
a VGG-style CNN (PyTorch, CPU) on digits. For each model: train, compute the rate–distortion
curves once (256 calibration samples from the training set), then for each sparsity and allocator
prune one-shot, measure test accuracy, fine-tune briefly with the masks fixed, measure again. The
DP keeps at least one weight per output unit of each layer (``min_kept_per_unit=1``, the default),
measures the distortion on the class probabilities (``output='proba'``) and refines its allocation
on conditional curves (``n_refine=5``, the default; ``dp[n_refine=0]`` is the paper's one-shot
allocation, for comparison). ``dp_iter`` is the DP run iteratively (20 % of the remaining weights
per round, curves re-measured each round, no training between rounds).
``--validation`` trains on 80 % of the training set and reports the accuracy on the other 20 %
(the test set untouched): the defaults were chosen on that split, not on the test table.

Run: ``python bench/pruning_accuracy.py [--models digits_mlp,lenet5] [--seeds 0,1,2] [--out DIR]``.
Writes a markdown table (``accuracy.md``), a CSV (one row per model, seed, sparsity, allocator)
and a plot (``accuracy.png``) to ``--out``. With several seeds the table gives the mean ± sd over
seeds (best mean in bold) and a summary: per sparsity, in how many models DP's mean is ≥ every
baseline's, within one standard error of the best one (tie), or below (loss); the plot shows the
means with ± sd bars. ``--from-csv A.csv B.csv ...`` rebuilds these from the CSVs of earlier runs
(e.g. one run per model and seed) without running anything. Cost, one thread: 0.5–2 min per
model and seed for the MLPs and LeNet-5, 3–6 min for the VGG, about 16 min for the ResNet. With
``--iterative``: the paper's protocol instead (rounds of 20 % of the remaining weights, one epoch of
masked fine-tuning after each round, DP's curves re-measured each round) for DP and the five
baselines, reported the same way (``iterative.csv`` per seed, ``iterative.md`` with mean ± sd, the
win/tie/loss summary of ``dp_iter_ft`` against the baselines' ``*_iter_ft`` and the cost per
seed, ``iterative.png``); ``--from-csv`` merges iterative CSVs too (and writes both reports when
given one-shot and iterative CSVs). Cost, one thread, per seed: 10 s–1 min for the MLPs and
LeNet-5, 3–4 min for the VGG, 5–14 min for the ResNet (of which the DP sweep, curves re-measured
23 times, about half), depending on the machine.
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
from optsolve.pruning.baselines import BASELINES

SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98)
ALLOCATORS = ("dp", "lagrangian", "uniform", "uniform_plus", "global", "erk", "lamp")
MODELS = ("satimage_mlp", "dna_mlp", "digits_mlp", "lenet5", "resnet", "vgg")
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
    t0 = time.perf_counter()
    model, acc, fine_tune1, calib = build(name, seed, ft_epochs=1, validation=validation)
    meta = dict(model=name, seed=seed, dense_acc=acc(model),
                train_seconds=time.perf_counter() - t0)
    schedule = sorted(set(geometric_sparsity_schedule(max(sparsities))) | set(sparsities))
    for a in allocators:
        t0, first = time.perf_counter(), len(rows)
        current, masks = model, None
        for s in schedule:
            p = LayerAdaptivePruner(sparsity=s, allocator=a, n_levels=51, **PRUNER)
            try:
                p.fit(current, calib, masks=masks)
            except ValueError as exc:  # uniform+ cannot reach this sparsity (first layer dense)
                log.info("%s %s at %.2f: %s", name, a, s, exc)
                rows += [dict(meta, sparsity=t, allocator=f"{a}_iter_ft", acc_ft=np.nan,
                              rounds=len(schedule), layer_sparsity="", note=str(exc)[:60])
                         for t in sparsities if t >= s - 1e-12]
                break
            masks, current = p.masks_, p.transform(current)
            current = fine_tune1(current, [m.astype(float) for m in masks], p.layer_names_)
            target = next((t for t in sparsities if abs(s - t) < 1e-12), None)
            if target is not None:
                rows.append(dict(meta, sparsity=target, allocator=f"{a}_iter_ft",
                                 acc_ft=acc(current), rounds=len(schedule),
                                 layer_sparsity=" ".join(f"{x:.3f}" for x in p.layer_sparsity_),
                                 note=""))
        seconds = time.perf_counter() - t0
        for r in rows[first:]:
            r["seconds"] = seconds  # the whole sweep of this allocator, all rounds
        log.info("%s %s iterative+fine-tune: %.1fs", name, a, seconds)
    return rows


ITER = "_iter_ft"  #: suffix of the iterative protocol's allocator names in the rows


def write_iterative_table(rows, out: Path):
    """The iterative protocol's outputs: per-seed ``iterative.csv``; ``iterative.md`` (mean ± sd
    over seeds when several, best mean in bold, DP's win/tie/loss summary against the five
    baselines, cost per seed); ``iterative.png`` (means with ± sd bars)."""
    write_csv(rows, out / "iterative.csv")
    models = list(dict.fromkeys(r["model"] for r in rows))
    sparsities = sorted({r["sparsity"] for r in rows})
    seeds = sorted({int(r["seed"]) for r in rows})
    named = [a + ITER for a in ITERATIVE_ALLOCATORS]
    allocs = [*named, *(a for a in dict.fromkeys(r["allocator"] for r in rows) if a not in named)]
    over = _over(seeds)
    panels = (("iterative + fine-tune", "acc_ft"),)
    lines = summary_lines(rows, sparsities, models, panels, ITER) if len(seeds) > 1 else []
    lines += _mean_table(rows, "acc_ft", allocs, models, sparsities, len(seeds),
                         "iterative prune (20 % of remaining per round) + 1-epoch fine-tune per "
                         f"round, {over}")
    lines += [f"### Cost per seed (seconds, one thread), {over}", "",
              "| model | dense acc | rounds | train | dp sweep | baseline sweep (mean of 5) | "
              "total |", "|---|---|---|---|---|---|---|"]
    for m in models:
        mine = [r for r in rows if r["model"] == m]
        per_seed = list({r["seed"]: r for r in mine}.values())
        dense = _cell(_stats([float(r["dense_acc"]) for r in per_seed]), len(seeds), np.nan)
        train = np.mean([float(r["train_seconds"]) for r in per_seed])
        sweep = {}
        for r in mine:  # one value per (allocator, seed): the whole sweep's time
            sweep.setdefault(r["allocator"], {})[r["seed"]] = float(r["seconds"])
        mean_of = {a: np.mean(list(v.values())) for a, v in sweep.items()}
        base = np.mean([mean_of[b + ITER] for b in BASELINES if b + ITER in mean_of])
        lines.append(f"| {m} | {dense} | {int(mine[0]['rounds'])} | {train:.0f} | "
                     f"{mean_of.get('dp' + ITER, np.nan):.0f} | {base:.0f} | "
                     f"{train + sum(mean_of.values()):.0f} |")
    text = "\n".join(lines) + "\n"
    (out / "iterative.md").write_text(text)
    _plot(rows, out / "iterative.png", models, sparsities, allocs, over, panels)
    return text


def _over(seeds):
    return (f"mean ± sd over {len(seeds)} seeds ({', '.join(map(str, seeds))})" if len(seeds) > 1
            else f"seed {seeds[0]}")


def _mean_table(rows, key, allocs, models, sparsities, n_seeds, title):
    """Markdown lines: mean (± sd) of ``key`` per model, sparsity and allocator, best in bold."""
    agg = _aggregate(rows, key)
    lines = [f"### Test accuracy (%), {title}", "",
             "| model | sparsity | " + " | ".join(allocs) + " |",
             "|---|---|" + "---|" * len(allocs)]
    for m in models:
        for s in sparsities:
            stats = [agg.get((m, s, a), (np.nan, np.nan, 0)) for a in allocs]
            best = max((st[0] for st in stats if st[2]), default=np.nan)
            cells = [_cell(st, n_seeds, best) for st in stats]
            lines.append(f"| {m} | {s:.2f} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _stats(vals):
    """(mean, sd, n) of the finite values (sd with ddof=1, 0 for one value); nan mean if none."""
    v = np.asarray([x for x in vals if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return np.nan, np.nan, 0
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0, int(v.size)


def _aggregate(rows, key):
    """{(model, sparsity, allocator): (mean, sd, n)} of ``key`` over the seeds."""
    groups = {}
    for r in rows:
        groups.setdefault((r["model"], r["sparsity"], r["allocator"]), []).append(float(r[key]))
    return {k: _stats(v) for k, v in groups.items()}


def _cell(stat, n_seeds, best):
    mean, sd, n = stat
    if n == 0:
        return "n/a"
    txt = f"{100 * mean:.1f}" + (f" ± {100 * sd:.1f}" if n_seeds > 1 else "")
    return f"**{txt}**" if mean == best else txt


def _verdict(agg, m, s, suffix=""):
    """DP against the best baseline on the seed means: ('win'|'tie'|'loss', dp, best baseline).

    ``suffix``: of the allocator names compared (``'_iter_ft'``: ``dp_iter_ft`` against
    ``uniform_iter_ft``, ...); the baseline is named without it.

    Win: DP's mean ≥ every baseline's mean. Tie: below the best baseline's mean by at most one
    standard error of the difference of the two means, sqrt(sd_dp²/n_dp + sd_b²/n_b). Loss: more.
    """
    dp = agg.get((m, s, "dp" + suffix), (np.nan, np.nan, 0))
    base = [(b, agg[(m, s, b + suffix)]) for b in BASELINES
            if agg.get((m, s, b + suffix), (0, 0, 0))[2] > 0]
    if dp[2] == 0 or not base:
        return None, dp, None
    name, best = max(base, key=lambda t: t[1][0])
    if dp[0] >= best[0]:
        return "win", dp, (name, best)
    se = np.hypot(dp[1] / np.sqrt(dp[2]), best[1] / np.sqrt(best[2]))
    return ("tie" if best[0] - dp[0] <= se else "loss"), dp, (name, best)


SUMMARY_PANELS = (("one-shot", "acc"), ("fine-tuned", "acc_ft"))


def summary_lines(rows, sparsities, models, panels=SUMMARY_PANELS, suffix=""):
    """Per sparsity: in how many models DP wins / ties / loses against the five baselines.

    ``panels``: (label, row key) of each accuracy compared; ``suffix``: as in ``_verdict``.
    """
    who = f"DP ({'dp' + suffix})" if suffix else "DP"
    names = ", ".join(b + suffix for b in BASELINES)
    lines = [f"### {who} against the five baselines ({names}), mean over seeds",
             "", "win: DP's mean ≥ every baseline's mean; tie: below the best baseline's mean by "
             "at most one standard error of the difference; loss: by more. Losses and ties list "
             "DP's mean ± sd against the best baseline's.", "",
             "| sparsity | " + " | ".join(f"{t} win / tie / loss" for t, _ in panels) + " | "
             + " | ".join(f"{t} ties and losses" for t, _ in panels) + " |",
             "|---|" + "---|" * (2 * len(panels))]
    for s in sparsities:
        counts, notes = [], []
        for _, key in panels:
            agg = _aggregate(rows, key)
            tally, detail = {"win": 0, "tie": 0, "loss": 0}, []
            for m in models:
                verdict, dp, best = _verdict(agg, m, s, suffix)
                if verdict is None:
                    continue
                tally[verdict] += 1
                if verdict != "win":
                    detail.append(f"{verdict} {m}: {100 * dp[0]:.1f} ± {100 * dp[1]:.1f} vs "
                                  f"{best[0]} {100 * best[1][0]:.1f} ± {100 * best[1][1]:.1f}")
            counts.append(f"{tally['win']} / {tally['tie']} / {tally['loss']}")
            notes.append("; ".join(detail) or "–")
        lines.append(f"| {s:.2f} | " + " | ".join([*counts, *notes]) + " |")
    return [*lines, ""]


def write_outputs(rows, out: Path, allocators):
    """Per-seed CSV; markdown (mean ± sd over seeds when several, best mean in bold, a DP
    win/tie/loss summary); plot of the means with ± sd error bars."""
    write_csv(rows, out / "accuracy.csv")
    models = list(dict.fromkeys(r["model"] for r in rows))
    sparsities = sorted({r["sparsity"] for r in rows})
    seeds = sorted({int(r["seed"]) for r in rows})
    allocs = [*allocators, *(a for a in dict.fromkeys(r["allocator"] for r in rows)
                             if a not in allocators)]
    n_seeds = len(seeds)
    over = _over(seeds)
    lines = summary_lines(rows, sparsities, models) if n_seeds > 1 else []
    for tag, key in (("one-shot, no fine-tuning", "acc"), ("after a short fine-tune", "acc_ft")):
        lines += _mean_table(rows, key, allocs, models, sparsities, n_seeds, f"{tag}, {over}")
    lines += [f"### Curve cost, {over}", "", "| model | layers | weights | dense acc | "
              "forward passes (reuse) | naive | seconds |", "|---|---|---|---|---|---|---|"]
    for m in models:
        first = {}
        for r in rows:
            if r["model"] == m:
                first.setdefault(r["seed"], r)
        per_seed = list(first.values())
        r = per_seed[0]
        dense = _cell(_stats([x["dense_acc"] for x in per_seed]), n_seeds, np.nan)
        passes = np.mean([float(x["curve_forward_passes"]) for x in per_seed])
        secs = np.mean([float(x["curve_seconds"]) for x in per_seed])
        lines.append(f"| {m} | {int(r['n_layers'])} | {int(r['n_weights'])} | {dense} | "
                     f"{passes:.1f} | {int(r['naive_forward_passes'])} | {secs:.2f} |")
    (out / "accuracy.md").write_text("\n".join(lines) + "\n")
    _plot(rows, out / "accuracy.png", models, sparsities, allocs, over)
    return "\n".join(lines)


def write_csv(rows, path: Path):
    """One row per model, seed, sparsity and allocator (the union of the rows' fields)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted({k for r in rows for k in r})
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def _plot(rows, path, models, sparsities, allocs, over, panels=SUMMARY_PANELS):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, axes = plt.subplots(len(panels), len(models), figsize=(3.2 * len(models),
                             3 * len(panels)), squeeze=False)
    for i, (label, key) in enumerate(panels):
        agg = _aggregate(rows, key)
        for j, m in enumerate(models):
            ax = axes[i, j]
            for a in allocs:
                pts = [(k, *agg[(m, s, a)][:2]) for k, s in enumerate(sparsities)
                       if agg.get((m, s, a), (0, 0, 0))[2]]
                if pts:
                    xs, ys, sds = zip(*pts, strict=True)
                    style = "-o" if a.startswith("dp") else "--."
                    ax.errorbar(xs, ys, yerr=sds, fmt=style, label=a, ms=4, capsize=2, lw=1)
            ax.set_xticks(range(len(sparsities)), [f"{s:.2f}" for s in sparsities], fontsize=7)
            ax.set_title(f"{m} ({label})", fontsize=9)
            ax.set_ylim(0, 1)
    for ax in axes[:, 0]:
        ax.set_ylabel("test accuracy")
    axes[0, -1].legend(fontsize=7)
    fig.suptitle(f"Test accuracy vs sparsity, {over}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


_TEXT_FIELDS = ("model", "allocator", "layer_sparsity", "note")


def _parse(value: str):
    """A CSV cell back to int or float ('' stays '': a field that row did not have)."""
    if value == "":
        return value
    try:
        return int(value)
    except ValueError:
        return float(value)


def read_rows(paths):
    """Rows of per-seed CSVs written by this script (numbers parsed back)."""
    rows = []
    for path in paths:
        with open(path, newline="") as fh:
            rows += [{k: v if k in _TEXT_FIELDS else _parse(v) for k, v in r.items()}
                     for r in csv.DictReader(fh)]
    return rows


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
    ap.add_argument("--from-csv", nargs="+", metavar="CSV",
                    help="run nothing: rewrite the table and plot from per-seed CSVs of earlier "
                    "runs (e.g. one run per model and seed)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.from_csv:  # one-shot and iterative rows (accuracy.csv, iterative.csv) may be mixed
        rows = read_rows(args.from_csv)
        iterative = [r for r in rows if r["allocator"].endswith(ITER)]
        if len(iterative) < len(rows):
            sys.stdout.write(write_outputs([r for r in rows if not r["allocator"].endswith(ITER)],
                                           Path(args.out), ALLOCATORS) + "\n")
        if iterative:
            sys.stdout.write(write_iterative_table(iterative, Path(args.out)))
        return
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
