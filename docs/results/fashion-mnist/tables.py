#!/usr/bin/env python3
"""Prints the tables of FINDINGS.md from the committed CSVs (standard library only).

Usage: python3 docs/results/fashion-mnist/tables.py [docs/results/fashion-mnist]
Reads <dir>/<protocol>/{summary,pairwise}[_road].csv and sanity[_class].csv for protocol in faithful, corrected.
"""
import csv, os, sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
PGIG = "pattern_integrate_grad"
RIVALS = [("integrate_grad", "IG"), ("pattern_vanilla_grad", "PatternAttribution"), ("grad_x_input", "grad×input")]
NAMES = dict(RIVALS + [(PGIG, "PGIG"), ("random_order", "random order")])


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def fmt(v, d=3):
    return f"{float(v):.{d}f}"


for protocol in ["faithful", "corrected"]:
    base = os.path.join(root, protocol)
    for suffix, label in [("", "mean replacement"), ("_road", "ROAD replacement")]:
        summary, pairwise = os.path.join(base, f"summary{suffix}.csv"), os.path.join(base, f"pairwise{suffix}.csv")
        if not os.path.exists(summary):
            continue
        s = rows(summary)
        p = rows(pairwise)
        for order in ["morf", "lerf"]:
            auc = {r["method"]: r for r in s if r["order"] == order}
            if PGIG not in auc:
                continue
            better = "lower" if order == "morf" else "higher"
            print(f"\n#### {protocol}, {label}, {order.upper().replace('ORF', 'oRF').replace('ERF', 'eRF')} (AUC, {better} is better)\n")
            print("| method | AUC [95% CI] | PGIG − method, mean per-image ΔAUC [95% CI] | p (Holm) | better |")
            print("|---|---|---|---|---|")
            a = auc[PGIG]
            print(f"| PGIG | {fmt(a['auc'])} [{fmt(a['auc_low'])}, {fmt(a['auc_high'])}] | | | |")
            rand = next((r for r in s if r["order"] == "random"), None)
            for m, name in RIVALS + [("random_order", "random order")]:
                r = auc.get(m) or (rand if m == "random_order" else None)
                if r is None:
                    continue
                pair = next((x for x in p if x["order"] == order and {x["method_a"], x["method_b"]} == {PGIG, m}), None)
                if pair is None:
                    continue
                sign = 1 if pair["method_a"] == PGIG else -1
                d, lo, hi = (sign * float(pair[k]) for k in ("mean_diff", "ci_low", "ci_high"))
                lo, hi = min(lo, hi), max(lo, hi)
                print(f"| {name} | {fmt(r['auc'])} [{fmt(r['auc_low'])}, {fmt(r['auc_high'])}] | {d:+.4f} [{lo:+.4f}, {hi:+.4f}] | "
                      f"{float(pair['p_holm']):.3g} | {NAMES.get(pair['better'], pair['better'])} |")
    sanity = os.path.join(base, "sanity.csv")
    if os.path.exists(sanity):
        s = rows(sanity)
        levels = sorted({int(r["level"]) for r in s if r["level"] not in ("", "-1")})
        if levels:
            print(f"\n#### {protocol}, sanity: Spearman of |map| with the original map (top layer redrawn → all {levels[-1]} redrawn)\n")
            print("| method | patterns | level 1 | level " + str(levels[-1]) + " |")
            print("|---|---|---|---|")
            for m in [PGIG, "pattern_vanilla_grad", "integrate_grad", "grad_x_input", "vanilla_grad", "random"]:
                for variant in ["original", "recomputed", "none"]:
                    sel = {int(r["level"]): r for r in s if r["method"] == m and r["patterns"] == variant and r["metric"] == "spearman_abs" and r["level"] not in ("", "-1")}
                    if not sel:
                        continue
                    cells = [f"{fmt(sel[l]['mean'])} [{fmt(sel[l]['ci_low'])}, {fmt(sel[l]['ci_high'])}]" for l in (levels[0], levels[-1])]
                    print(f"| {NAMES.get(m, m)} | {variant} | {cells[0]} | {cells[1]} |")
            ref = [float(r["mean"]) for r in s if r["layer"] == "random_map" and r["metric"] == "spearman_abs"]
            if ref:
                print(f"| random-map reference (mean over methods) | | {sum(ref) / len(ref):.3f} | |")
    classes = os.path.join(base, "sanity_class.csv")
    if os.path.exists(classes):
        print(f"\n#### {protocol}, class sensitivity: Spearman of |map| between the predicted and the second most probable class\n")
        print("| method | Spearman of \\|map\\| [95% CI] | signed Spearman | SSIM |")
        print("|---|---|---|---|")
        c = rows(classes)
        for m in [PGIG, "pattern_vanilla_grad", "integrate_grad", "grad_x_input", "vanilla_grad"]:
            cell = {r["metric"]: r for r in c if r["method"] == m and r["patterns"] in ("original", "none")}
            if cell:
                a = cell["spearman_abs"]
                print(f"| {NAMES.get(m, m)} | {fmt(a['mean'])} [{fmt(a['ci_low'])}, {fmt(a['ci_high'])}] | {fmt(cell['spearman']['mean'])} | {fmt(cell['ssim']['mean'])} |")
