"""A correct TwoLayerNet in the style of real student solutions of Exercise 9 (written for
this test): per-example loops in the loss and the backward pass, an unshifted softmax
(the handout never asks for a stable one), float labels from `predict` (np.zeros filled
in a loop), and a `train` that keeps cs231n's float iterations_per_epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class TwoLayerNet:
    def __init__(self, input_size: int, hidden_size: int, output_size: int, std: float = 1e-4) -> None:
        self.params = {}
        self.params["W1"] = std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None, reg: float = 0.0) -> Any:
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        N = X.shape[0]
        hidden = np.zeros((N, W1.shape[1]))
        scores = np.zeros((N, W2.shape[1]))
        for i in range(N):
            hidden[i] = np.maximum(0, X[i].dot(W1) + b1)
            scores[i] = hidden[i].dot(W2) + b2
        if y is None:
            return scores
        loss = 0.0
        grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        for i in range(N):
            with np.errstate(over="ignore", invalid="ignore"):  # unstable on purpose
                e = np.exp(scores[i])
                p = e / np.sum(e)
            loss += -np.log(p[y[i]])
            dscore = p.copy()
            dscore[y[i]] -= 1
            grads["W2"] += np.outer(hidden[i], dscore)
            grads["b2"] += dscore
            dhidden = W2.dot(dscore)
            dhidden[hidden[i] <= 0] = 0
            grads["W1"] += np.outer(X[i], dhidden)
            grads["b1"] += dhidden
        loss = loss / N + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        for name in grads:
            grads[name] /= N
        grads["W1"] += reg * W1
        grads["W2"] += reg * W2
        return loss, grads

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
        num_train = X.shape[0]
        iterations_per_epoch = max(num_train / batch_size, 1)
        loss_history, train_acc_history, val_acc_history = [], [], []
        for it in range(num_iters):
            idx = np.random.choice(num_train, batch_size)
            X_batch, y_batch = X[idx], y[idx]
            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            loss_history.append(loss)
            for name in self.params:
                self.params[name] += -learning_rate * grads[name]
            if it % iterations_per_epoch == 0:
                train_acc_history.append((self.predict(X_batch) == y_batch).mean())
                val_acc_history.append((self.predict(X_val) == y_val).mean())
                learning_rate *= learning_rate_decay
        return {
            "loss_history": loss_history,
            "train_acc_history": train_acc_history,
            "val_acc_history": val_acc_history,
        }

    def predict(self, X: np.ndarray) -> np.ndarray:
        y_pred = np.zeros(X.shape[0])
        scores = self.loss(X)
        for i in range(X.shape[0]):
            y_pred[i] = np.argmax(scores[i])
        return y_pred
