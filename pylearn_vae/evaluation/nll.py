"""Importance-sampled negative log-likelihood of a trained VAE on a whole dataset.

``log p(x) ~ log (1/k) sum_s p(x, z_s) / q(z_s|x)`` with ``k`` samples of q(z|x)
(:meth:`VAE.log_likelihood_approximation`; Burda et al. use k = 5000). The k samples of
an example are drawn in chunks so that no more than about ``memory_mb`` is held at
once (a chunk is ``k_chunk x batch x nvis``); each chunk's log-sum-exp is combined with
the others in float64, exactly as the estimate of one call with all k samples is
formed (the same numbers when one chunk holds all k samples).
The same batches also give the variational lower bound (ELBO) and its two terms.
``bin/vae_nll.py`` is its command line.
"""

import dataclasses
import math

import numpy

from pylearn_vae import backend, threads
from pylearn_vae.utils.progress import progress

__all__ = ["DEFAULT_MEMORY_MB", "NLLResult", "chunk_sizes", "importance_sampled_nll"]

DEFAULT_MEMORY_MB = 256
# Arrays of k_chunk x batch x width alive at once while a chunk is evaluated (z, the
# decoder's activations, the logits, the log-densities): a safety factor on the budget.
_LIVE_ARRAYS = 8


@dataclasses.dataclass
class NLLResult:
    """Per-example estimates (nats) on a set, and their summaries.

    Attributes
    ----------
    log_likelihood : float64 array, shape (n,)
        Importance-sampled log p(x) per example.
    kl, expectation : float64 array, shape (n,)
        KL(q(z|x) || p(z)) and the one-sample estimate of E_q[log p(x|z)].
    k : int
        Importance samples per example.
    """

    log_likelihood: numpy.ndarray
    kl: numpy.ndarray
    expectation: numpy.ndarray
    k: int

    @property
    def num_examples(self):
        return len(self.log_likelihood)

    @property
    def nll(self):
        """Mean negative log-likelihood, nats."""
        return float(-self.log_likelihood.mean())

    @property
    def nll_stderr(self):
        """Standard error of :attr:`nll`: ``std / sqrt(n)`` (0 for one example)."""
        n = self.num_examples
        return float(self.log_likelihood.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0

    @property
    def elbo(self):
        """Mean variational lower bound, nats."""
        return float((self.expectation - self.kl).mean())

    def report(self):
        """The lines ``vae_nll.py`` prints."""
        return "\n".join(
            [
                f"examples: {self.num_examples}",
                f"NLL (k={self.k}): {self.nll:.4f} nats +- {self.nll_stderr:.4f} (standard error)",
                f"ELBO: {self.elbo:.4f} nats (-ELBO {-self.elbo:.4f})",
                f"KL(q(z|x) || p(z)): {self.kl.mean():.4f} nats",
                f"reconstruction E_q[log p(x|z)]: {self.expectation.mean():.4f} nats",
                f"gap -ELBO - NLL: {-self.elbo - self.nll:.4f} nats",
            ]
        )


def chunk_sizes(k, num_examples, width, memory_bytes, batch_size=None, itemsize=4):
    """``(batch_size, k_chunk)`` so that ``k_chunk * batch_size * width`` fits the budget.

    Parameters
    ----------
    k : int
        Importance samples per example.
    num_examples : int
    width : int
        Widest per-sample vector (``nvis`` or a hidden layer's size).
    memory_bytes : int
        Budget for the ``_LIVE_ARRAYS`` arrays of one chunk.
    batch_size : int, optional
        Imposed batch size; only ``k_chunk`` is chosen then.
    """
    elements = max(1, memory_bytes // (itemsize * width * _LIVE_ARRAYS))
    if batch_size is None:
        k_chunk = min(k, max(1, elements // 16), 1000)
        batch_size = max(1, min(num_examples, elements // k_chunk))
    else:
        k_chunk = max(1, min(k, elements // batch_size))
    return int(batch_size), int(k_chunk)


def _widest(model):
    sizes = [model.nvis, model.nhid]
    for part in (model.conditional, model.posterior):
        for p in part.get_params():
            sizes.extend(int(s) for s in p.get_value().shape)
    return max(sizes)


def importance_sampled_nll(
    model,
    X,
    k,
    batch_size=None,
    seed=None,
    k_chunk=None,
    memory_mb=DEFAULT_MEMORY_MB,
    show_progress=False,
):
    """Importance-sampled log p(x), ELBO terms, for every row of ``X``.

    Parameters
    ----------
    model : VAE
    X : array, shape (n, nvis)
    k : int
        Importance samples per example (>= 1).
    batch_size : int, optional
        Examples per batch; by default chosen from ``memory_mb``.
    seed : int, optional
        Re-seeds the model's noise streams first (:meth:`VAE.set_noise_seed`), so two calls
        with the same seed give the same numbers.
    k_chunk : int, optional
        Samples drawn at once; by default chosen from ``memory_mb``.
    memory_mb : float
        Rough budget for one chunk's arrays.
    show_progress : bool
        Progress bar over batches (on a terminal, with tqdm).

    Returns
    -------
    NLLResult
        With ``seed`` and ``k_chunk >= k``, ``log_likelihood`` equals
        ``model.log_likelihood_approximation(batch, k)`` batch by batch.
    """
    k = int(k)
    if k < 1:
        raise ValueError(f"k, the number of importance samples, must be >= 1, got {k}")
    X = numpy.asarray(X)
    n = X.shape[0]
    if n < 1:
        raise ValueError("the dataset has no examples")
    budget = int(memory_mb * 2**20)
    auto_batch, auto_chunk = chunk_sizes(k, n, _widest(model), budget, batch_size)
    batch_size = auto_batch
    k_chunk = auto_chunk if k_chunk is None else min(int(k_chunk), k)
    if seed is not None:
        model.set_noise_seed(seed)

    log_likelihood, kl, expectation = [], [], []
    starts = range(0, n, batch_size)
    # All threads or one, re-checked now and then as training does (on a busy machine
    # OpenBLAS's threads wait on each other); the numbers change only by rounding.
    tuner = threads.tuner(batch_size=200, enabled=backend.get_device() == "cpu")
    try:
        bar = progress(starts, desc=f"NLL k={k}", enabled=None if show_progress else False)
        for start in bar:
            tuner.start_epoch()
            batch = backend.asarray(X[start : start + batch_size])
            log_likelihood.append(_log_mean_exp_in_chunks(model, batch, k, k_chunk))
            batch_kl, batch_expectation = model.log_likelihood_lower_bound(
                batch, 1, return_individual_terms=True
            )
            kl.append(backend.to_host(batch_kl).astype("float64"))
            expectation.append(backend.to_host(batch_expectation).astype("float64"))
    finally:
        tuner.finish()
    return NLLResult(
        numpy.concatenate(log_likelihood), numpy.concatenate(kl), numpy.concatenate(expectation), k
    )


def _log_mean_exp_in_chunks(model, batch, k, k_chunk):
    """``log (1/k) sum_s w_s`` for each row, the k samples drawn ``k_chunk`` at a time.

    Each chunk's log-mean-exp ``m_c`` over ``k_c`` samples is turned back into a
    log-sum-exp ``m_c + log k_c`` and combined with ``logaddexp`` in float64.
    """
    total = None
    for done in range(0, k, k_chunk):
        size = min(k_chunk, k - done)
        chunk = backend.to_host(model.log_likelihood_approximation(batch, size))
        log_sum = chunk.astype("float64") + math.log(size)
        total = log_sum if total is None else numpy.logaddexp(total, log_sum)
    return total - math.log(k)
