"""Per-prompt head-to-head statistics: win/tie/loss, the length-controlled win rate, Bradley-Terry.

Raw win rate of A over B: ``100 * mean_p (1[r_A > r_B] + 0.5 * 1[r_A = r_B])``.

Length-controlled win rate (AlpacaEval 2, Dubois et al. 2024, minimal form): per prompt
label ``y = 1[r_A > r_B] + 0.5 * 1[r_A = r_B]`` and feature
``d = tanh((len_A - len_B) / sd(len_A - len_B))`` (``d = 0`` when the sd is 0); fit
``logit P(A wins) = theta + phi * d`` by maximum likelihood (soft labels, a ridge of ``l2/2 *
(theta^2 + phi^2)`` so all-win data stay finite); ``LC = 100 * sigmoid(theta)``: the win rate
with the length difference set to zero. Swapping A and B flips y and d, so LC(A,B) + LC(B,A) =
100 and LC(A,A) = 50.

Bradley-Terry (Chatbot Arena): ``P(a beats b) = sigmoid(s_a - s_b)``, logistic MLE over (a, b,
outcome) rows with ties as one half; ``Elo = 400 * (s - s_anchor) / ln 10 + 1000`` with the SFT
model as the anchor (so 400 Elo points = 10:1 odds).

Every fit takes prompt weights (B, P) and runs vectorised Newton steps over the B replicates of
the shared bootstrap (``analysis.scores``); weights of ones give the point estimate. Scores and
lengths are per prompt, (P,), or per replicate, (B, P), for a model whose per-prompt values
change with the replicate's seed resample (a config's seeds averaged, ``model_vectors``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from harness.schema import TIE_TOLERANCE, is_tie

LC_L2 = 1e-3
NEWTON_STEPS = 100
MAX_STEP = 5.0


def outcomes(score_a, score_b, tie_tol: float = TIE_TOLERANCE) -> np.ndarray:
    """Per-prompt result of A vs B: 1 win, 0.5 tie, 0 loss. A tie is the harness's rule
    (:func:`harness.schema.is_tie`: within a relative ``tie_tol``), so head-to-head and the
    trials' win_vs_sft agree."""
    diff = np.asarray(score_a, float) - np.asarray(score_b, float)
    return np.where(is_tie(score_a, score_b, tie_tol), 0.5, (diff > 0).astype(float))


def _weights(weights, n_prompts: int) -> np.ndarray:
    return np.ones((1, n_prompts)) if weights is None else np.atleast_2d(weights).astype(float)


def _wsum(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per replicate weighted sum over prompts: w (B, P) with x (P,) or (B, P) -> (B,)."""
    return w @ x if x.ndim == 1 else (w * x).sum(axis=1)


def win_tie_loss(score_a, score_b, weights=None, tie_tol: float = TIE_TOLERANCE) -> dict:
    """Shares of prompts A wins, ties and loses, and the raw win rate (%), per weight row.

    Returns arrays of shape (B,) (B = 1 without ``weights``) under keys win, tie, loss, raw.
    """
    y = outcomes(score_a, score_b, tie_tol)
    w = _weights(weights, y.shape[-1])
    total = w.sum(axis=1)
    win = _wsum(w, (y == 1.0).astype(float)) / total
    tie = _wsum(w, (y == 0.5).astype(float)) / total
    loss = _wsum(w, (y == 0.0).astype(float)) / total
    return dict(win=win, tie=tie, loss=loss, raw=100.0 * (win + 0.5 * tie))


def length_balance(len_a, len_b, weights=None) -> np.ndarray:
    """``min(P(len_A > len_B), P(len_A < len_B)) + P(len_A = len_B) / 2`` over the prompts, per
    weight row: 0.5 when A is longer on as many prompts as it is shorter, near 0 when one
    model is longer almost everywhere (then the LC fit extrapolates to equal length)."""
    diff = np.asarray(len_a, float) - np.asarray(len_b, float)
    w = _weights(weights, diff.shape[-1])
    total = w.sum(axis=1)
    longer = _wsum(w, (diff > 0).astype(float)) / total
    shorter = _wsum(w, (diff < 0).astype(float)) / total
    return np.minimum(longer, shorter) + 0.5 * (1.0 - longer - shorter)


def _newton(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float) -> np.ndarray:
    """Weighted ridge logistic regression with soft labels, batched over B replicates:
    x (B, P, K), y (P,) or (B, P), w (B, P) -> coefficients (B, K)."""
    B, _, K = x.shape
    beta = np.zeros((B, K))
    eye = np.eye(K)
    xt = np.swapaxes(x, 1, 2)  # (B, K, P); batched matmuls instead of 3-operand einsums
    for _ in range(NEWTON_STEPS):
        p = expit((x @ beta[:, :, None])[:, :, 0])
        grad = (xt @ (w * (p - y))[:, :, None])[:, :, 0] + l2 * beta
        hess = (xt * (w * p * (1 - p))[:, None, :]) @ x + l2 * eye
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        norm = np.linalg.norm(step, axis=1, keepdims=True)
        step = step * np.minimum(1.0, MAX_STEP / np.maximum(norm, 1e-300))
        beta -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def lc_win_rate(score_a, score_b, len_a, len_b, weights=None, l2: float = LC_L2,
                tie_tol: float = TIE_TOLERANCE, return_coef: bool = False):
    """Length-controlled win rate (%) of A over B, per weight row: (B,) array.

    ``return_coef=True`` also returns (theta, phi), each (B,).
    """
    y = outcomes(score_a, score_b, tie_tol)
    w = _weights(weights, y.shape[-1])
    diff = np.asarray(len_a, float) - np.asarray(len_b, float)
    total = w.sum(axis=1, keepdims=True)
    mean = _wsum(w, diff)[:, None] / total
    diff2 = np.atleast_2d(diff)
    sd = np.sqrt((w * (diff2 - mean) ** 2).sum(axis=1, keepdims=True) / total)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(sd > 1e-12, np.tanh(diff2 / sd), 0.0)
    x = np.stack([np.ones_like(d), d], axis=-1)
    coef = _newton(x, y, w, l2)
    lc = 100.0 * expit(coef[:, 0])
    return (lc, coef[:, 0], coef[:, 1]) if return_coef else lc


def bradley_terry(scores: np.ndarray, anchor: int = 0, weights=None, l2: float = LC_L2,
                  tie_tol: float = TIE_TOLERANCE) -> np.ndarray:
    """Bradley-Terry strengths of M models from per-prompt scores: every pair of models meets
    on every prompt. ``scores``: a list of M arrays, each (P,) or (B, P) (or an (M, P) array).
    Returns Elo ratings (B, M), ``anchor`` at 1000.

    The likelihood only needs, per pair (a, b), the weighted number of meetings and of A's wins
    (ties = half), so each replicate is an M-1 parameter Newton fit.
    """
    scores = [np.asarray(s, float) for s in scores]
    M, P = len(scores), scores[0].shape[-1]
    w = _weights(weights, P)
    pairs = [(a, b) for a in range(M) for b in range(a + 1, M)]
    meet = np.stack([w.sum(axis=1) for _ in pairs], axis=1)  # (B, n_pairs)
    wins = np.stack([_wsum(w, outcomes(scores[a], scores[b], tie_tol)) for a, b in pairs],
                    axis=1)
    return bradley_terry_from_counts(M, pairs, wins, meet, anchor, l2)


def bradley_terry_from_counts(M: int, pairs, wins, meetings, anchor: int = 0,
                              l2: float = LC_L2) -> np.ndarray:
    """Elo ratings (B, M) from per-pair counts: ``wins[b, j]`` of ``pairs[j][0]`` over
    ``pairs[j][1]`` out of ``meetings[b, j]`` (ties as halves). ``anchor`` sits at 1000."""
    wins = np.atleast_2d(np.asarray(wins, float))
    meetings = np.atleast_2d(np.asarray(meetings, float))
    free = [i for i in range(M) if i != anchor]
    design = np.zeros((len(pairs), M))
    for j, (a, b) in enumerate(pairs):
        design[j, a], design[j, b] = 1.0, -1.0
    design = design[:, free]  # the anchor's strength is fixed at 0
    B = wins.shape[0]
    x = np.broadcast_to(design, (B,) + design.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(meetings > 0, wins / meetings, 0.5)
    # One row per pair, weighted by its meetings, labelled with the win share: the same
    # likelihood as one row per battle.
    s = _newton(x, y, meetings, l2)
    strengths = np.zeros((B, M))
    strengths[:, free] = s
    return 1000.0 + 400.0 * strengths / np.log(10.0)

