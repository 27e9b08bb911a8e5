"""Gaussian-process surrogate with known per-evaluation noise, noisy expected improvement, and batches.

The GP (scikit-learn, Matérn 5/2 with one length scale per dimension) takes each evaluation's Monte Carlo
variance as its known noise (``alpha``). The incumbent is the best *posterior mean* among evaluated designs,
so a lucky noisy draw does not become the target. Batches are chosen by the Kriging believer: after each pick
the GP is told its own mean there (with tiny noise) and the next pick maximizes EI again, which keeps a batch
free of near-duplicates.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern


def fit_gp(x: np.ndarray, y: np.ndarray, sd: np.ndarray, seed: int) -> tuple[GaussianProcessRegressor, float, float]:
    """A GP on standardized y; returns (gp, mean, scale) to map predictions back."""
    mu, scale = float(np.mean(y)), float(np.std(y)) or 1.0
    z = (y - mu) / scale
    alpha = np.maximum((sd / scale) ** 2, 1e-8)
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(length_scale=np.full(x.shape[1], 0.5),
                                                        length_scale_bounds=(0.05, 20.0), nu=2.5)
    gp = GaussianProcessRegressor(kernel=kernel, alpha=alpha, normalize_y=False, n_restarts_optimizer=2,
                                  random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(x, z)
    return gp, mu, scale


def expected_improvement(mean: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    sd = np.maximum(sd, 1e-12)
    z = (mean - best) / sd
    return (mean - best) * norm.cdf(z) + sd * norm.pdf(z)


def propose_batch(x_obs: np.ndarray, y: np.ndarray, sd: np.ndarray, x_all: np.ndarray, q: int,
                  seed: int, exclude: np.ndarray | None = None) -> list[int]:
    """Indices into ``x_all`` of ``q`` designs to evaluate next (Kriging believer over noisy EI)."""
    xs, ys, sds = x_obs.copy(), y.copy(), sd.copy()
    picked: list[int] = []
    for _ in range(q):
        gp, mu, scale = fit_gp(xs, ys, sds, seed)
        m_obs = gp.predict(xs) * scale + mu
        best = float(m_obs.max())
        m, s = gp.predict(x_all, return_std=True)
        ei = expected_improvement(m * scale + mu, s * scale, best)
        if exclude is not None:
            ei[exclude] = -np.inf
        ei[picked] = -np.inf
        k = int(np.argmax(ei))
        picked.append(k)
        xs = np.vstack([xs, x_all[k]])
        ys = np.append(ys, m[k] * scale + mu)
        sds = np.append(sds, 1e-6 * scale)
    return picked


def posterior_mean(x_obs: np.ndarray, y: np.ndarray, sd: np.ndarray, x: np.ndarray, seed: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    gp, mu, scale = fit_gp(x_obs, y, sd, seed)
    m, s = gp.predict(x, return_std=True)
    return m * scale + mu, s * scale


def maximin_sample(x_all: np.ndarray, n: int, rng: np.random.Generator, tries: int = 64) -> list[int]:
    """A space-filling start: the best of ``tries`` random subsets by minimum pairwise distance."""
    n = min(n, x_all.shape[0])
    best, best_d = None, -1.0
    for _ in range(tries):
        idx = rng.choice(x_all.shape[0], size=n, replace=False)
        pts = x_all[idx]
        d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
        d[np.diag_indices(n)] = np.inf
        if d.min() > best_d:
            best, best_d = idx, float(d.min())
    assert best is not None
    return [int(i) for i in best]
