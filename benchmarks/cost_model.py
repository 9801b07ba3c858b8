"""The cost on paper of cluster training (docs/cluster.md), from measured inputs: words/s and efficiency of N
nodes, each a 1-thread worker, at a link speed, for the direct and the sharded exchange.

    python benchmarks/cost_model.py --r 1387000 --w 200000 --change 5.83 --combined 12.67,14.76 --gmax 13.93
                                    --L0 0.039 --tau 0.0011 [--tau-per-node 0] [--nodes 4,16,64,256]
                                    [--links 1,10] [--overlap] [--report-tasks]

A round takes T = w/r + b/B + L: w raw words per node at r words/s, b bytes each node sends (and receives as
many, on a full-duplex link of B bytes/s), L the time of the round not spent training or sending. Direct:
b = (N − 1)·c, c the bytes of a node's change (--change, MB). Sharded: b = (N − 1)/N · (c + g), g the bytes of a
round's combined shards (the bfloat16 combined change of every row some node changed): --combined gives g measured at N = 2, 4,
... (the next values of N in that order), and g = --gmax beyond them (every synchronized row changed by some
node: an upper bound). L = L0 + τ · tasks, tasks = 2N direct (a round task and a report per node), 2N + 2
sharded (a round task, whose result is its report, and a combination per node, and two barrier tasks; 3N + 2 with
--report-tasks, as before 2026-12-05 15:00). τ is the scheduler's CPU per task: for direct, whose
round tasks each take every round task before them, tau + tau_per_node · N (it grows with N); for sharded, whose
stages are joined through barrier tasks, tau (benchmarks/scheduler_cost.py). With --overlap (sharded only: the
exchange of a round moves while the next round trains) T = max(w/r, b/B) + L: the bytes hidden behind training, the
round's own work and the scheduler's not. The cluster trains N·w/T words/s; efficiency = that ÷ N·r.
"""
import argparse


def table(a):
    combined = [float(x) for x in a.combined.split(",")] if a.combined else []
    rows = []
    for n in [int(x) for x in a.nodes.split(",")]:
        k = n.bit_length() - 2  # N = 2 → 0, 4 → 1, 8 → 2
        g = combined[k] if n & (n - 1) == 0 and 0 <= k < len(combined) else a.gmax
        for how, b, tasks in (("direct", (n - 1) * a.change, 2 * n),
                              ("sharded", (n - 1) / n * (a.change + g), (3 if a.report_tasks else 2) * n + 2)):
            tau = a.tau + (a.tau_per_node * n if how == "direct" else 0.0)
            lat = a.L0 + tau * tasks
            for gbit in [float(x) for x in a.links.split(",")]:
                send = b * 1e6 / (gbit * 1e9 / 8)
                hidden = a.overlap and how == "sharded"
                t = (max(a.w / a.r, send) if hidden else a.w / a.r + send) + lat
                speed = n * a.w / t
                rows.append((n, how, b, tasks, lat, gbit, send, speed, speed / (n * a.r)))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--r", type=float, required=True, help="words/s of a 1-thread node")
    p.add_argument("--w", type=float, default=200_000, help="raw words per node per round")
    p.add_argument("--change", type=float, required=True, help="MB of a node's change per round")
    p.add_argument("--combined", default="", help="MB of a round's combined shards at N = 2, 4, 8, ...")
    p.add_argument("--gmax", type=float, required=True, help="MB of the combined shards if every synced row changed")
    p.add_argument("--L0", type=float, required=True, help="seconds of a round neither training nor sending")
    p.add_argument("--tau", type=float, required=True, help="seconds per task of a round (at N = 0)")
    p.add_argument("--tau-per-node", type=float, default=0.0,
                   help="seconds per task added by each node (direct: every task takes every task before it)")
    p.add_argument("--nodes", default="4,16,64,256")
    p.add_argument("--links", default="1,10", help="Gb/s")
    p.add_argument("--overlap", action="store_true", help="sharded: a round's bytes move while the next trains")
    p.add_argument("--report-tasks", action="store_true", help="sharded: a report task per node too (3N + 2)")
    a = p.parse_args(argv)
    print(f"{'N':>4} {'exchange':>8} {'MB/node':>8} {'tasks':>6} {'L s':>6} {'Gb/s':>5} {'send s':>7} "
          f"{'words/s':>12} {'eff.':>6}")
    for n, how, b, tasks, lat, gbit, send, speed, eff in table(a):
        print(f"{n:4d} {how:>8} {b:8.1f} {tasks:6d} {lat:6.3f} {gbit:5.0f} {send:7.3f} {speed:12,.0f} "
              f"{100 * eff:5.1f}%")


if __name__ == "__main__":
    main()
