"""A correct, vectorised TwoLayerNet written for the fairness test (not the reference).

The other files here subclass it to change one thing: a correct alternative or one known
bug. Each keeps the handout's interface, so the same probes run against all of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class TwoLayerNet:
    """The handout's network: affine - ReLU - affine - softmax, 0.5 * reg * sum W^2."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, std: float = 1e-4) -> None:
        self.params = {
            "W1": std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    # -- pieces a variant may replace ---------------------------------------------------
    def probabilities(self, scores: np.ndarray) -> Any:
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def reg_loss(self, reg: float) -> float:
        return 0.5 * reg * float(np.sum(self.params["W1"] ** 2) + np.sum(self.params["W2"] ** 2))

    def reg_grad(self, name: str, reg: float) -> Any:
        return reg * self.params[name] if name.startswith("W") else 0.0

    def relu_mask(self, hidden_pre: np.ndarray) -> np.ndarray:
        return hidden_pre > 0

    def sample(self, num_train: int, batch_size: int, it: int) -> np.ndarray:
        return np.random.choice(num_train, batch_size)

    def step(self, name: str, grad: np.ndarray, learning_rate: float) -> None:
        self.params[name] -= learning_rate * grad

    # -- the handout's methods ---------------------------------------------------------
    def loss(self, X: np.ndarray, y: np.ndarray | None = None, reg: float = 0.0) -> Any:
        p = self.params
        hidden_pre = X @ p["W1"] + p["b1"]
        hidden = np.maximum(hidden_pre, 0)
        scores = hidden @ p["W2"] + p["b2"]
        if y is None:
            return scores
        N = X.shape[0]
        probs = self.probabilities(scores)
        loss = -np.mean(np.log(probs[np.arange(N), y])) + self.reg_loss(reg)
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        dhidden = (dscores @ p["W2"].T) * self.relu_mask(hidden_pre)
        grads = {"W2": hidden.T @ dscores, "b2": dscores.sum(axis=0), "W1": X.T @ dhidden, "b1": dhidden.sum(axis=0)}
        return loss, {name: g + self.reg_grad(name, reg) for name, g in grads.items()}

    def train(
        self,
        X: np.ndarray,
        y: np.ndarray,
        X_val: np.ndarray,
        y_val: np.ndarray,
        learning_rate: float = 1e-3,
        learning_rate_decay: float = 0.95,
        reg: float = 1e-5,
        num_iters: int = 100,
        batch_size: int = 200,
        verbose: bool = False,
    ) -> dict[str, list[float]]:
        iterations_per_epoch = max(X.shape[0] // batch_size, 1)
        history: dict[str, list[float]] = {"loss_history": [], "train_acc_history": [], "val_acc_history": []}
        for it in range(num_iters):
            idx = self.sample(X.shape[0], batch_size, it)
            loss, grads = self.loss(X[idx], y[idx], reg=reg)
            history["loss_history"].append(float(loss))
            for name in self.params:
                self.step(name, grads[name], learning_rate)
            if it % iterations_per_epoch == 0:
                history["train_acc_history"].append(float((self.predict(X[idx]) == y[idx]).mean()))
                history["val_acc_history"].append(float((self.predict(X_val) == y_val).mean()))
                learning_rate *= learning_rate_decay
        return history

    def predict(self, X: np.ndarray) -> Any:
        return np.argmax(self.loss(X), axis=1)
