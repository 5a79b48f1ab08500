"""Correct alternatives and known bugs, each a one-thing change of variant_base.TwoLayerNet.

`CORRECT` must pass every check; `BUGS` map each bug to the checks it must fail.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from variant_base import TwoLayerNet as Vectorised


class WithoutReplacement(Vectorised):
    """Minibatches drawn from a fresh permutation per epoch instead of np.random.choice."""

    def sample(self, num_train: int, batch_size: int, it: int) -> np.ndarray:
        if it == 0 or not hasattr(self, "_order"):
            self._order = np.random.permutation(num_train)
        start = (it * batch_size) % max(num_train - batch_size + 1, 1)
        return (
            self._order[start : start + batch_size]
            if num_train >= batch_size
            else np.random.choice(num_train, batch_size)
        )


class Float32Training(Vectorised):
    """Trains in float32 (the handout does not fix the training precision)."""

    def step(self, name: str, grad: np.ndarray, learning_rate: float) -> None:
        self.params[name] = (self.params[name] - learning_rate * grad).astype(np.float32)


class NoReluMask(Vectorised):
    def relu_mask(self, hidden_pre: np.ndarray) -> np.ndarray:
        return np.ones_like(hidden_pre, dtype=bool)


class NoRegularisation(Vectorised):
    def reg_loss(self, reg: float) -> float:
        return 0.0

    def reg_grad(self, name: str, reg: float) -> Any:
        return 0.0


class RegularisedBiases(Vectorised):
    def reg_loss(self, reg: float) -> float:
        return 0.5 * reg * float(sum(np.sum(v**2) for v in self.params.values()))

    def reg_grad(self, name: str, reg: float) -> Any:
        return reg * self.params[name]


class FullRegConvention(Vectorised):
    """The later cs231n years' reg * sum W^2 (with its consistent gradient 2 * reg * W)."""

    def reg_loss(self, reg: float) -> float:
        return 2 * super().reg_loss(reg)

    def reg_grad(self, name: str, reg: float) -> Any:
        return 2 * super().reg_grad(name, reg)


class SoftmaxWrongAxis(Vectorised):
    def probabilities(self, scores: np.ndarray) -> Any:
        shifted = np.exp(scores - scores.max(axis=0, keepdims=True))
        return shifted / shifted.sum(axis=0, keepdims=True)


class NoUpdate(Vectorised):
    """A train that never changes a weight and reports a perfect loss."""

    def train(  # type: ignore[override]
        self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, **kwargs: Any
    ) -> dict[str, list[float]]:
        return {
            "loss_history": [0.0] * int(kwargs.get("num_iters", 100)),
            "train_acc_history": [],
            "val_acc_history": [],
        }


class UnstableSoftmax(Vectorised):
    def probabilities(self, scores: np.ndarray) -> Any:
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(scores)
            return e / e.sum(axis=1, keepdims=True)
