"""Sketched EAL Newton (optsolve.constrained) vs scipy trust-constr / SLSQP (and IPOPT when
cyipopt imports) on the built-in problem library.

Per contender: solved fraction (KKT with least-squares multipliers <= 1e-6 at the returned x
AND objective within tolerance of the library's f_opt or a documented other local solution),
median outer iterations, median inner iterations, median evaluations (f+g+c+J+H), median
wall time and the median time ratio vs trust-constr. Same process, BLAS pinned to 1 thread,
one warm-up then the median of 3 timed runs. Also prints the floor check of issue 4:
"solve every problem trust-constr solves, with median outer iterations <= 8".

    python bench/constrained_vs_scipy.py            # writes bench/results/constrained_vs_scipy.json
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from pathlib import Path

import numpy as np

from optsolve.bench.timing import blas_threads, time_callable
from optsolve.constrained._bench import CONTENDERS, PEER, kkt_least_squares
from optsolve.problems.library import get_problem, list_problems

SIZES = {"POISSON_CONTROL": {"N": 8}, "GENHS28": {"n": 10}}
OTHER_LOCAL = {"BT7": 360.3797670}
TOL = 1e-6


def solved(p, out) -> bool:
    kkt = kkt_least_squares(p, np.asarray(out["x"], dtype=float))
    if not kkt <= TOL:
        return False
    f = float(out["fun"])
    ftol = 1e-5 * max(1.0, abs(p.f_opt))
    return abs(f - p.f_opt) <= ftol or abs(f - OTHER_LOCAL.get(p.name, np.inf)) <= ftol


def main(repeats: int = 3) -> dict:
    names = [c for c in CONTENDERS if c != "cyipopt" or importlib.util.find_spec("cyipopt")]
    rows = []
    with blas_threads(1):
        for pname in list_problems():
            for cname in names:
                p = get_problem(pname, **SIZES.get(pname, {}))
                fn = CONTENDERS[cname]
                try:
                    t, _, out = time_callable(lambda p=p, fn=fn: fn(p), repeats=repeats,
                                              max_seconds=20)
                except Exception as exc:  # a failing contender is a row
                    rows.append({"problem": pname, "solver": cname, "error": repr(exc)})
                    continue
                rows.append({
                    "problem": pname, "solver": cname, "time": t, "nit": int(out["nit"]),
                    "n_inner": int(out["n_inner"]), "evals": int(out["evals"]),
                    "kkt": kkt_least_squares(p, np.asarray(out["x"], dtype=float)),
                    "fun": float(out["fun"]), "solved": solved(p, out),
                })
                r = rows[-1]
                print(f"{pname:16s} {cname:24s} {r['time']*1e3:9.2f} ms nit={r['nit']:4d} "
                      f"inner={r['n_inner']:7d} evals={r['evals']:5d} kkt={r['kkt']:.1e} "
                      f"{'ok' if r['solved'] else 'FAIL'}", flush=True)
    by = {(r["problem"], r["solver"]): r for r in rows}
    summary = {}
    print("\nsolver                     solved   med.outer  med.inner  med.evals  med.time[ms]"
          "  med.time/trust-constr")
    for cname in names:
        rs = [r for r in rows if r["solver"] == cname and "error" not in r]
        ok = [r for r in rs if r["solved"]]
        ratios = [r["time"] / by[(r["problem"], PEER)]["time"] for r in ok
                  if by.get((r["problem"], PEER), {}).get("solved")]
        s = {
            "solved": f"{len(ok)}/{len(list_problems())}",
            "median_outer": statistics.median([r["nit"] for r in ok]) if ok else None,
            "median_inner": statistics.median([r["n_inner"] for r in ok]) if ok else None,
            "median_evals": statistics.median([r["evals"] for r in ok]) if ok else None,
            "median_time_ms": 1e3 * statistics.median([r["time"] for r in ok]) if ok else None,
            "median_time_ratio_vs_trust_constr": statistics.median(ratios) if ratios else None,
        }
        summary[cname] = s
        print(f"{cname:26s} {s['solved']:>6s} {s['median_outer']!s:>10s} "
              f"{s['median_inner']!s:>10s} {s['median_evals']!s:>10s} "
              f"{(s['median_time_ms'] or 0):13.2f} "
              f"{(s['median_time_ratio_vs_trust_constr'] or 0):20.2f}")
    tc_solved = {r["problem"] for r in rows if r["solver"] == PEER and r.get("solved")}
    for cname in names:
        if not cname.startswith("optsolve"):
            continue
        mine = {r["problem"] for r in rows if r["solver"] == cname and r.get("solved")}
        missing = sorted(tc_solved - mine)
        print(f"floor check {cname}: solves all {len(tc_solved)} trust-constr solves: "
              f"{not missing} {missing or ''}; median outer "
              f"{summary[cname]['median_outer']} <= 8: "
              f"{(summary[cname]['median_outer'] or 99) <= 8}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "constrained_vs_scipy.json").write_text(json.dumps(
        {"rows": rows, "summary": summary}, indent=1, default=float))
    return summary


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
