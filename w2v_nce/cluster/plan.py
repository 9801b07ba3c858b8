"""The plan of a job: the corpus's pieces dealt to one part per worker (deal_pieces; when there are fewer pieces
than workers, contiguous sentence ranges of the pieces), the rounds of an epoch and each part's share of its chunks
in every round, and which rows are synchronized after each round.

Every part holds text from across the whole corpus, and every round of a part trains chunks drawn at random from
the whole part: the corpus is cut into about PIECES_PER_PART pieces per part, dealt to the parts in turn, and the
chunks of a part are shuffled into its rounds anew every epoch (EpochPlan.shares). A round's changes are then those
of text like the corpus as a whole on every part; with parts of contiguous text each part's rounds follow a few
articles at the parts' raised rate, and the combined change drifts with them (docs/cluster.md, "Parts from across
the corpus": CBOW on 8 workers of text8_2m, 6 seeds, 1.82 analogy points under a local run at the median with
contiguous parts, 1.15 with these). A corpus that cannot be cut into pieces that give every part text (a few
long lines) keeps contiguous parts, its chunks shuffled all the same.

An epoch is R rounds (R = ceil(largest part's raw words / sync words); by default the sync words are SYNC_WORDS,
fewer on a corpus too small for MIN_ROUNDS rounds an epoch); in round s every part trains its share of
its chunks, the learning rate following the global schedule (words trained by all parts). Rows are stratified by
frequency ("stratified"): a word expected to occur at least SYNC_EVENTS times in a part's round is synchronized
every round, a rarer one every 2, 4, ... MAX_PERIOD rounds (powers of two, so the rows synchronized in a round are
a prefix of the frequency-sorted vocabulary); every row is synchronized at the end of every epoch. "full"
synchronizes every row every round; "epoch-average" is Spark MLlib's scheme: one round per epoch, every row,
averaged.

Combining a round's changes. The n parts of a round all train from the same weights W, each on its share, and
their changes Δ_p are added to W as c · Σ_p Δ_p, the parts having trained at m times the learning rate
(combine_factors). Three kinds of rows ask different things of (m, c):
- a row one part changed (a rare word): its change is all the training it had, so m·c = 1;
- a row many parts changed a little (each Δ_p proportional to the rate and to the part's examples): training on
  all n shares in turn would have moved it by Σ_p Δ_p / m, so m·c = 1 again;
- a frequent row: each part's round brings it near its optimum x* given the other rows (Δ_p ≈ x* − W), and
  c · Σ_p Δ_p ≈ n·c·(x* − W) multiplies the row's error by 1 − n·c, which grows unless n·c ≤ 2.
"scaled" meets all three with c = min(1, 2/n) and m = 1/c, that is m = n/2, as long as a part's rate stays
stable (m ≤ MAX_RATE_FACTOR; full softmax's default rate is already at its own limit, so m = 1 for it); beyond
that the rate stops rising and frequent rows keep c = 2/n. With two parts it is the plain sum. "sum" (m = 1,
c = 1) multiplies a frequent row's error by 1 − n and diverges from three or four parts on; "average" (m = 1,
c = 1/n) is stable but moves every row as if the job had trained on one part's share.
"""
import math

import numpy as np

from ..core.errors import W2VError
from ..prepare.stream import CHUNK_WORDS
from .exchange import DIRECT, EXCHANGES, SHARD_FROM

SYNC_MODES = ("stratified", "full", "epoch-average")
COMBINES = ("scaled", "sum", "average")
OVERLAPS = ("auto", "on", "off")
# The objectives "auto" overlaps (skip-gram; measured: docs/cluster.md).
OVERLAP_OBJECTIVES = ("ns", "nce", "infonce")
# The most a part's learning rate is raised by "scaled": 4 × skip-gram's default rate trained stably on 8 parts.
MAX_RATE_FACTOR = 4
# Raw words a part trains per round (the default round length, at most) ...
SYNC_WORDS = 200_000
# ... and at least this many rounds an epoch by default: on a small corpus a round of SYNC_WORDS would cover a
# large share of an epoch, the parts' copies drifting apart for that long (text8_2m, 4 workers, seed 1: rounds of
# 200,000, 100,000 and 50,000 words gave analogy −1.07, −0.19 and −0.68 points against a local run with
# skip-gram, −2.17, −1.54 and −0.89 with CBOW).
MIN_ROUNDS = 12
# The shortest round a default round length gives.
MIN_ROUND_WORDS = 5_000
# The pieces the corpus is cut into, per part (fewer where its files cannot be cut so finely).
PIECES_PER_PART = 16
# A part's chunks (the units its threads take, in an order shuffled every epoch) hold at most stream.CHUNK_WORDS
# words, about a round's words / CHUNKS_PER_ROUND (at most half a round per thread, so that every thread has work
# in every round), and at least MIN_CHUNK_WORDS: a Python call per chunk.
CHUNKS_PER_ROUND = 16
MIN_CHUNK_WORDS = 1_000
# A row is synchronized every round if its word is expected this many times in a part's round.
SYNC_EVENTS = 1.0
MAX_PERIOD = 8
# Mixed into the seed of an epoch's shares, apart from the kernels' streams.
SHARES_STREAM = 0x5348


def combine_factors(combine, n_parts, objective):
    """(m, c): the factor m of the parts' learning rate and the scale c of the summed changes Σ_p Δ_p of a round
    of n_parts (module description). "scaled": c = min(1, 2/n), m = min(1/c, MAX_RATE_FACTOR), m = 1 for full
    softmax; "sum": (1, 1); "average": (1, 1/n)."""
    if combine == "sum":
        return 1.0, 1.0
    if combine == "average":
        return 1.0, 1.0 / n_parts
    scale = min(1.0, 2.0 / n_parts)
    return (1.0 if objective == "softmax" else min(1.0 / scale, MAX_RATE_FACTOR)), scale


class Sync:
    """How a job synchronizes: mode (one of SYNC_MODES), words (raw words a part trains per round; None: the
    default, resolved once the corpus is counted by resolved()), combine (one of COMBINES: how the parts' changes
    are combined; epoch-average always averages) and exchange (one of exchange.EXCHANGES: how the changes go from
    worker to worker)."""

    def __init__(self, mode="stratified", words=None, combine="scaled", exchange="auto", overlap="auto"):
        if mode not in SYNC_MODES:
            raise W2VError(f"unknown sync mode {mode!r} (choose from {', '.join(SYNC_MODES)})")
        if combine not in COMBINES:
            raise W2VError(f"unknown sync_combine {combine!r} (choose from {', '.join(COMBINES)})")
        if exchange not in EXCHANGES:
            raise W2VError(f"unknown sync_exchange {exchange!r} (choose from {', '.join(EXCHANGES)})")
        if overlap not in OVERLAPS:
            raise W2VError(f"unknown sync_overlap {overlap!r} (choose from {', '.join(OVERLAPS)})")
        if overlap == "on" and (mode == "epoch-average" or exchange == DIRECT):
            raise W2VError("sync_overlap 'on' needs rounds whose changes are exchanged in shards: not with "
                           f"sync {mode!r} and sync_exchange {exchange!r}")
        if words is not None and (not isinstance(words, int) or words < 1):
            raise W2VError(f"sync_words must be an integer ≥ 1, got {words!r}")
        self.mode = mode
        self.words = words
        self.combine = "average" if mode == "epoch-average" else combine
        self.exchange = exchange
        self.overlap = overlap

    def resolved(self, raw_words, n_parts):
        """This Sync with its round length set for a corpus of raw_words on n_parts parts: the words given, else
        SYNC_WORDS, fewer if an epoch would have less than MIN_ROUNDS rounds (at least MIN_ROUND_WORDS)."""
        if self.words is not None:
            return self
        per_part = raw_words / max(n_parts, 1)
        words = max(MIN_ROUND_WORDS, min(SYNC_WORDS, math.ceil(per_part / MIN_ROUNDS)))
        return Sync(self.mode, int(words), self.combine, self.exchange, self.overlap)

    def overlaps(self, opts, n_parts):
        """Whether a job of n_parts with the resolved options opts overlaps a round's exchange with the next
        round's training: "on", or "auto" for skip-gram with a sampling objective from SHARD_FROM parts on
        (docs/cluster.md: CBOW's quality does not hold, nor hierarchical softmax's, whose nodes near the root every
        part changes every round, nor skip-gram's analogy with two parts), if there are parts to exchange with and
        the exchange is sharded."""
        wanted = self.overlap == "on" or (self.overlap == "auto" and opts.arch == "sg" and n_parts >= SHARD_FROM
                                          and opts.objective in OVERLAP_OBJECTIVES)
        return wanted and n_parts > 1 and self.mode != "epoch-average" and self.exchange != DIRECT


def chunk_words_of(round_words, threads):
    """The chunk length of a part whose rounds are round_words raw words, trained by `threads` threads: a round
    in CHUNKS_PER_ROUND chunks, or two per thread if that is more, within [MIN_CHUNK_WORDS, CHUNK_WORDS]."""
    per_round = max(CHUNKS_PER_ROUND, 2 * max(threads, 1))
    return int(min(CHUNK_WORDS, max(MIN_CHUNK_WORDS, round_words // per_round)))


def deal_pieces(sizes, n_parts):
    """The part of each piece (sizes: the pieces' sizes, in corpus order): each in turn to the part holding the
    least so far (ties: the fewest pieces, then the lowest index), so that pieces of about equal size go round
    the parts in turn and every part holds pieces from across the corpus."""
    held = [(0, 0, p) for p in range(n_parts)]
    dealt = []
    for size in sizes:
        k = min(range(n_parts), key=lambda q: held[q])
        total, count, p = held[k]
        held[k] = (total + size, count + 1, p)
        dealt.append(p)
    return dealt


def plan_parts(piece_stats, n_parts, dealt=None):
    """Up to n_parts parts of the pieces (their (raw words, sentences), in corpus order): lists of (piece, first
    sentence, end sentence), end None for the whole piece. With at least n_parts pieces, part p holds the pieces
    dealt to it whole (dealt: each piece's part; None: deal_pieces by raw words), if every part has a sentence;
    else (fewer pieces, or pieces too unequal: a corpus of a few long lines) contiguous ranges of about equal
    sentences (each part reads the pieces it has a range of whole)."""
    raw = [r for r, _ in piece_stats]
    sents = [s for _, s in piece_stats]
    n = len(piece_stats)
    if n >= n_parts:
        dealt = deal_pieces(raw, n_parts) if dealt is None else dealt
        parts = [[i for i in range(n) if dealt[i] == p] for p in range(n_parts)]
        if all(sum(sents[i] for i in part) for part in parts):
            return [[(i, 0, None) for i in part] for part in parts]
    total = sum(sents)
    bounds = [total * p // n_parts for p in range(n_parts + 1)]
    offsets = np.concatenate([[0], np.cumsum(sents)]).astype(np.int64)
    parts = []
    for lo, hi in zip(bounds, bounds[1:]):
        part = []
        for i in range(n):
            a, b = max(lo, offsets[i]), min(hi, offsets[i + 1])
            if b > a:
                part.append((i, int(a - offsets[i]), int(b - offsets[i])))
        if part:
            parts.append(part)
    return parts


class EpochPlan:
    """The rounds of every epoch of a job whose parts hold chunks of part_raw[p] raw words each: how many
    (rounds), each part's share of its chunks per round in an epoch (shares), the schedule's words before each
    round, and the synchronization period of each row. The shares of an epoch follow from seed and the epoch
    alone, so that a round trained again (a recovery, a resumed run) trains the same chunks."""

    def __init__(self, part_raw, counts, sync, hs, seed=0):
        largest = max(float(np.sum(r)) for r in part_raw.values())
        self.rounds = 1 if sync.mode == "epoch-average" else max(1, math.ceil(largest / sync.words))
        self.part_raw = part_raw
        self.seed = int(seed) % (1 << 63)
        self._epochs = {}  # epoch → (its shares, the schedule's words before each of its rounds), the last two
        self.raw_per_epoch = int(sum(int(np.sum(r)) for r in part_raw.values()))
        part_round = self.raw_per_epoch / max(len(part_raw) * self.rounds, 1)
        self.periods = sync_periods(counts, part_round, self.raw_per_epoch, self.rounds, sync.mode)
        self.vocab_size = len(counts)
        self.hs = hs

    def _epoch(self, epoch):
        if epoch not in self._epochs:
            rng = np.random.default_rng((self.seed, int(epoch), SHARES_STREAM))
            shares = {p: shuffled_shares(self.part_raw[p], self.rounds, rng) for p in sorted(self.part_raw)}
            round_words = [sum(int(np.sum(self.part_raw[p][shares[p][r]])) for p in shares)
                           for r in range(self.rounds)]
            before = np.concatenate([[0], np.cumsum(round_words)]).astype(np.int64)
            self._epochs = {e: v for e, v in self._epochs.items() if e == epoch - 1}
            self._epochs[epoch] = (shares, before)
        return self._epochs[epoch]

    def shares(self, epoch):
        """{part: [its chunks of round r of `epoch`, for every r]}."""
        return self._epoch(epoch)[0]

    def _pull_sizes(self, n):
        # hierarchical softmax's output rows are the Huffman tree's inner nodes, not words: all of them, always
        return n, (self.vocab_size if self.hs else n)

    def round(self, epoch, r, n_sync=None):
        """Round r of `epoch` (None: a synchronization only, of n_sync rows): the rows it synchronizes and the
        schedule's words at its start and end."""
        n = synced_prefix(self.periods, r, self.rounds) if n_sync is None else n_sync
        n_in, n_out = self._pull_sizes(n)
        before = self._epoch(epoch)[1]
        base = epoch * self.raw_per_epoch + (int(before[r]) if r is not None else 0)
        words_to = base + (int(before[r + 1] - before[r]) if r is not None else 0)
        return dict(epoch=epoch, round=r, synced_rows=n, words_from=base, words_to=words_to, n_in=n_in,
                    n_out=n_out)


def sync_periods(counts, part_round_words, raw_words, rounds, mode):
    """The synchronization period (rounds) of each row: every round for words expected SYNC_EVENTS times per
    part round, then the power of two that brings a rarer word there, at most MAX_PERIOD (and rounds)."""
    if mode != "stratified":
        return np.ones(len(counts), dtype=np.int64)
    expected = np.asarray(counts, dtype=np.float64) * part_round_words / max(raw_words, 1)
    need = np.maximum(SYNC_EVENTS / np.maximum(expected, 1e-12), 1.0)
    periods = 2 ** np.ceil(np.log2(need)).astype(np.int64)
    cap = max(1, min(MAX_PERIOD, 2 ** int(math.floor(math.log2(max(rounds, 1))))))
    return np.minimum(periods, cap)


def synced_prefix(periods, r, rounds):
    """Rows synchronized at the end of round r of an epoch: those whose period divides r + 1 (a prefix, periods
    being powers of two nondecreasing along the frequency-sorted vocabulary); all rows at the epoch's end."""
    if r == rounds - 1:
        return len(periods)
    return int(np.searchsorted(periods, (r + 1) & -(r + 1), side="right"))


def round_chunks(raw, rounds):
    """Split one part's chunks (their raw words) into `rounds` contiguous shares of about equal raw words."""
    raw = np.asarray(raw, dtype=np.float64)
    mid = np.cumsum(raw) - raw / 2
    which = np.minimum((mid * rounds / max(raw.sum(), 1.0)).astype(np.int64), rounds - 1)
    return [np.flatnonzero(which == r) for r in range(rounds)]


def shuffled_shares(raw, rounds, rng):
    """One part's chunks (their raw words) in an order drawn from rng, cut into `rounds` shares of about equal
    raw words (round_chunks of that order): each share's chunks in the order they are trained."""
    order = rng.permutation(len(raw))
    return [order[share] for share in round_chunks(np.asarray(raw)[order], rounds)]
