"""How far an NCE model's exp s(w,c) is from normalized: log Z(c) = log Σ_w exp s(w,c) on held-out and on training
contexts, by context size, and what a normalizer fitted afterwards on the training contexts leaves.

    python benchmarks/normalization.py --corpus text8_2m.txt.gz --train-lines 1-2100 --held-lines 2120-2140
        [--arch cbow] [--seeds 1,2,3] [--options '{"negative": 20}'] [--fits]

Training: the lines given, one worker, the seed, w2v_nce.train's defaults unless --options overrides them.
Held-out: every (context, target) pair of the held-out lines within the full window, no subsampling (as
`w2v-nce score --exact`); mean ± sd of log Z over the pairs' contexts, and the self-normalized NLL (−mean s)
against the exact one (their difference is the mean log Z). In-sample: the pairs training draws from every 100th
training line (subsampling and shrunk windows with a fixed seed), by the number of context words (CBOW).
--fits: log Z of the training contexts regressed on functions of the context vector h (linear a·h + c; plus
Σ_t A_t·h_t² (diagonal); plus every h_s·h_t (full quadratic)), and the held-out residual of each fit.
"""
import json
import os
import tempfile

import numpy as np

import common
import w2v_nce
from w2v_nce.kernels.rows import gather_inputs
from w2v_nce.model.examples import insample_examples
from w2v_nce.model.inference import exact_scores, text_examples
from w2v_nce.prepare.corpus import as_corpus

INSAMPLE_EVERY = 20  # every n-th training line gives the in-sample contexts
BLOCK = 4096  # rows of a design matrix at a time


def line_range(text):
    first, last = (int(x) for x in text.split("-"))
    return first, last


def write_lines(corpus, first, last, path):
    """Lines first..last (1-based, inclusive) of the corpus to path."""
    with open(path, "w", encoding="utf-8") as out:
        for i, s in enumerate(as_corpus(corpus), start=1):
            if first <= i <= last:
                out.write(" ".join(s) + "\n")
            if i >= last:
                break


def contexts(model, rows):
    """(context vectors h as float64, log Z per context, pairs per context, context sizes) of CSR rows."""
    in_off, in_ids, tg_off, tg_ids = rows
    n = len(in_off) - 1
    h = np.empty((n, model.dim), np.float32)
    gather_inputs(model.input_vectors, in_off, in_ids, 0, n, h)
    s, log_z = exact_scores(model, in_off, in_ids, tg_off, tg_ids)
    return h.astype(np.float64), log_z, np.diff(tg_off), np.diff(in_off), s


def spread(log_z, pairs):
    per_pair = np.repeat(log_z, pairs)
    return float(per_pair.mean()), float(per_pair.std())


def design(h, kind):
    cols = [h, np.ones((len(h), 1))]
    if kind != "linear":
        cols.append(h ** 2)
    if kind == "full quadratic":
        upper = np.triu_indices(h.shape[1], 1)
        cols.append((h[:, :, None] * h[:, None, :])[:, upper[0], upper[1]])
    return np.hstack(cols)


def fit_normalizer(h, log_z, kind):
    """Least-squares coefficients of log_z on design(h, kind), from the normal equations summed over blocks of
    rows (the full quadratic design has dim²/2 columns)."""
    gram, rhs = 0.0, 0.0
    for a in range(0, len(h), BLOCK):
        x = design(h[a:a + BLOCK], kind)
        gram = gram + x.T @ x
        rhs = rhs + x.T @ log_z[a:a + BLOCK]
    return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def normalizer(h, coef, kind):
    return np.concatenate([design(h[a:a + BLOCK], kind) @ coef for a in range(0, len(h), BLOCK)])


def measure(args, seed, train_path, held_path):
    options = dict(arch=args.arch, objective=args.objective, workers=1, seed=seed, **json.loads(args.options))
    model = w2v_nce.train(train_path, **options)
    row = dict(seed=seed)
    (held_rows, _) = text_examples(model, held_path)
    h_held, z_held, pairs_held, _, s_held = contexts(model, held_rows)
    row["held_log_z"] = spread(z_held, pairs_held)
    row["nll_exact"] = float(-(s_held - np.repeat(z_held, pairs_held)).mean())
    row["nll_self"] = float(-s_held.mean())
    sentences = list(as_corpus(train_path))[::INSAMPLE_EVERY]
    rows = insample_examples(model, sentences, args.arch, model.options["window"], model.options["sample"])
    h_in, z_in, pairs_in, sizes, _ = contexts(model, rows)
    row["insample_log_z"] = spread(z_in, pairs_in)
    if args.arch == "cbow":
        row["insample_by_size"] = {int(n): spread(z_in[sizes == n], pairs_in[sizes == n])
                                   for n in np.unique(sizes) if (sizes == n).sum() >= 50}
    if args.fits:
        row["fits"] = {}
        for kind in ("linear", "diagonal quadratic", "full quadratic"):
            coef = fit_normalizer(h_in, z_in, kind)
            row["fits"][kind] = spread(z_held - normalizer(h_held, coef, kind), pairs_held)
    return row


def pm(x):
    return f"{x[0]:+.3f} ± {x[1]:.3f}"


def main():
    p = common.parser(__doc__, json_help="write the rows here")
    p.add_argument("--train-lines", default="1-2100")
    p.add_argument("--held-lines", default="2120-2140")
    p.add_argument("--arch", default="cbow", choices=("sg", "cbow"))
    p.add_argument("--objective", default="nce")
    p.add_argument("--seeds", default="1")
    p.add_argument("--options", default="{}", help="w2v_nce.train keywords, as JSON")
    p.add_argument("--fits", action="store_true")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        train_path, held_path = os.path.join(tmp, "train.txt"), os.path.join(tmp, "held.txt")
        write_lines(args.corpus, *line_range(args.train_lines), train_path)
        write_lines(args.corpus, *line_range(args.held_lines), held_path)
        for seed in (int(s) for s in args.seeds.split(",")):
            row = measure(args, seed, train_path, held_path)
            rows.append(row)
            print(f"seed {seed}: held-out log Z {pm(row['held_log_z'])}, NLL exact {row['nll_exact']:.4f} "
                  f"self {row['nll_self']:.4f}; in-sample log Z {pm(row['insample_log_z'])}", flush=True)
            for n, x in row.get("insample_by_size", {}).items():
                print(f"    in-sample, {n} context words: {pm(x)}")
            for kind, x in row.get("fits", {}).items():
                print(f"    held-out after a {kind} normalizer fitted on the training contexts: {pm(x)}")
    common.write_json(args.json, rows)


if __name__ == "__main__":
    main()
