"""The architecture loop bound to each objective, one cached kernel each.

Each entry point calls loop.run_chunk with one objective, so Numba compiles the objective into the loop: no call
through a function pointer per example (every such call passed the thread state and the noise tables, about 145
machine words, on the stack) and code only for what that objective uses. A run loads only its objective's kernel
from Numba's cache. Arguments: arch, chunk = (stream, start, end, lr_start, lr_end), weights = (in_w, out_w,
out_b), settings = (window, fixed_window, keep_prob, use_bias, shared_negatives, window_batch), noise tables, thread
state. ns, nce, infonce and hs also hand the loop their window forms, ns, nce and infonce their CBOW minibatch forms
(objectives/window.py).
"""
import numba as nb

from ..objectives.base import KERNEL_OPTIONS
from ..objectives.hs import hierarchical_softmax, hierarchical_softmax_window
from ..objectives.infonce import infonce, infonce_cbow_batch, infonce_window
from ..objectives.nce import nce, nce_cbow_batch, nce_window
from ..objectives.ns import negative_sampling, negative_sampling_cbow_batch, negative_sampling_window
from ..objectives.softmax import softmax
from .loop import run_chunk


@nb.njit(**KERNEL_OPTIONS)
def train_ns(arch, chunk, weights, settings, noise, state):
    run_chunk(negative_sampling, negative_sampling_window, negative_sampling_cbow_batch, arch, chunk, weights,
              settings, noise, state, None)


@nb.njit(**KERNEL_OPTIONS)
def train_nce(arch, chunk, weights, settings, noise, state):
    run_through_copies(nce, nce_window, nce_cbow_batch, arch, chunk, weights, settings, noise, state)


@nb.njit(**KERNEL_OPTIONS)
def train_infonce(arch, chunk, weights, settings, noise, state):
    run_through_copies(infonce, infonce_window, infonce_cbow_batch, arch, chunk, weights, settings, noise, state)


@nb.njit(**KERNEL_OPTIONS)
def train_softmax(arch, chunk, weights, settings, noise, state):
    run_chunk(softmax, None, None, arch, chunk, weights, settings, noise, state, None)


@nb.njit(**KERNEL_OPTIONS)
def train_hs(arch, chunk, weights, settings, noise, state):
    run_through_copies(hierarchical_softmax, hierarchical_softmax_window, None, arch, chunk, weights, settings,
                       noise, state)


@nb.njit(**KERNEL_OPTIONS, inline="always")
def run_through_copies(objective, window_objective, batch_objective, arch, chunk, weights, settings, noise, state):
    """run_chunk through the thread's copies (state.hot: hs's nodes nearest the root, the most frequent words'
    biases for the minibatches of nce and infonce) when it holds any, i.e. with several threads; else compiled
    without that code."""
    if state.hot.b.shape[0] > 0:
        run_chunk(objective, window_objective, batch_objective, arch, chunk, weights, settings, noise, state,
                  state.hot)
    else:
        run_chunk(objective, window_objective, batch_objective, arch, chunk, weights, settings, noise, state, None)


CHUNK_TRAINERS = dict(ns=train_ns, nce=train_nce, infonce=train_infonce, softmax=train_softmax, hs=train_hs)
