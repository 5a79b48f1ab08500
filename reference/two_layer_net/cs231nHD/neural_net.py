# BEGIN INSTRUCTOR
# STARTER: """Exercise 9: a two-layer fully-connected network (cs231n-derived)."""
"""Reference solution of Exercise 9: a two-layer fully-connected network (cs231n-derived).

Solution markers
----------------
The student template is generated from this file. Every part the student implements
sits between a pair of marker comments::

    # BEGIN SOLUTION: <one line saying what the student must implement>
    ... solution lines ...
    # END SOLUTION

`grader template` replaces each block (markers included) with two lines at the BEGIN
line's indentation::

    # TODO: <description>
    raise NotImplementedError('<description>')

unless `# STARTER: <line>` comments in the block say what the template holds instead
(the backward pass: `pass`, leaving `grads = {}` so the loss can be checked first).
So blocks never nest, a description is a single line, and everything outside the
blocks (set-up lines such as `scores = None`, `if y is None: return scores`, the
returns) is shipped to students as is and must keep the template valid Python.
Markers are comments: quoting them in a docstring, as here, does not make a block.
This docstring sits between `# BEGIN INSTRUCTOR` and `# END INSTRUCTOR`: the template
gets the one-line docstring of the STARTER comment above instead.
"""
# END INSTRUCTOR

from __future__ import annotations

import numpy as np
# BEGIN INSTRUCTOR
# Unused here, but the course's code imports it: kept so the reference loads under
# exactly the conditions a real submission does (e.g. a headless matplotlib).
# END INSTRUCTOR
import matplotlib.pyplot as plt  # noqa: F401
from past.builtins import xrange  # the `future` package's Python-2 shim


class TwoLayerNet(object):
    """
    A two-layer fully-connected neural network. The net has an input dimension of
    D, a hidden layer dimension of H, and performs classification over C classes.
    We train the network with a softmax loss function and L2 regularization on the
    weight matrices. The network uses a ReLU nonlinearity after the first fully
    connected layer.

    In other words, the network has the following architecture:

    input - fully connected layer - ReLU - fully connected layer - softmax

    The outputs of the second fully-connected layer are the scores for each class.
    """

    def __init__(
        self, input_size: int, hidden_size: int, output_size: int, std: float = 1e-4
    ) -> None:
        """
        Initialize the model. Weights are initialized to small random values and
        biases are initialized to zero. Weights and biases are stored in the
        variable self.params, which is a dictionary with the following keys:

        W1: First layer weights; has shape (D, H)
        b1: First layer biases; has shape (H,)
        W2: Second layer weights; has shape (H, C)
        b2: Second layer biases; has shape (C,)

        Inputs:
        - input_size: The dimension D of the input data.
        - hidden_size: The number of neurons H in the hidden layer.
        - output_size: The number of classes C.
        """
        # The order of the randn calls is part of the interface: the handout's seeded
        # toy model (np.random.seed(0)) only reproduces its published scores if W1 is
        # drawn before W2.
        self.params: dict[str, np.ndarray] = {}
        self.params['W1'] = std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None, reg: float = 0.0
    ) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """
        Compute the loss and gradients for a two layer fully connected neural
        network.

        Inputs:
        - X: Input data of shape (N, D). Each X[i] is a training sample.
        - y: Vector of training labels. y[i] is the label for X[i], and each y[i] is
          an integer in the range 0 <= y[i] < C. This parameter is optional; if it
          is not passed then we only return scores, and if it is passed then we
          instead return the loss and gradients.
        - reg: Regularization strength.

        Returns:
        If y is None, return a matrix scores of shape (N, C) where scores[i, c] is
        the score for class c on input X[i].

        If y is not None, instead return a tuple of:
        - loss: Loss (data loss and regularization loss) for this batch of training
          samples.
        - grads: Dictionary mapping parameter names to gradients of those parameters
          with respect to the loss function; has the same keys as self.params.
        """
        # Unpack variables from the params dictionary
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        N, D = X.shape

        # Compute the forward pass
        scores = None
        # BEGIN SOLUTION: Compute the class scores for X: affine layer, ReLU, affine output layer; store them in scores, shape (N, C)
        hidden_pre = X.dot(W1) + b1            # (N, H)
        hidden = np.maximum(0.0, hidden_pre)   # ReLU
        scores = hidden.dot(W2) + b2           # (N, C)
        # END SOLUTION

        # If the targets are not given then jump out, we're done
        if y is None:
            return scores

        # Compute the loss
        loss = None
        # BEGIN SOLUTION: Compute the softmax cross-entropy loss averaged over the batch plus 0.5 * reg * (sum of W1**2 + sum of W2**2); store it in loss
        # Subtracting each row's maximum leaves the softmax unchanged but keeps exp()
        # from overflowing on large scores.
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        data_loss = -log_probs[np.arange(N), y].mean()
        reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        loss = float(data_loss + reg_loss)
        # END SOLUTION

        # Backward pass: compute gradients
        grads = {}
        # BEGIN SOLUTION: Backward pass: store the gradients of loss with respect to W1, b1, W2, b2 in grads under the same keys, each with its parameter's shape
        # STARTER: pass
        # d loss / d scores of the averaged cross-entropy is (softmax - one_hot) / N.
        dscores = np.exp(log_probs)
        dscores[np.arange(N), y] -= 1.0
        dscores /= N

        grads['W2'] = hidden.T.dot(dscores) + reg * W2
        grads['b2'] = dscores.sum(axis=0)

        dhidden = dscores.dot(W2.T)
        dhidden[hidden_pre <= 0] = 0.0        # ReLU passes gradient only where active

        grads['W1'] = X.T.dot(dhidden) + reg * W1
        grads['b1'] = dhidden.sum(axis=0)
        # END SOLUTION

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
        momentum: float = 0.0,
    ) -> dict[str, list[float]]:
        """
        Train this neural network using stochastic gradient descent (with optional
        momentum).

        Inputs:
        - X: A numpy array of shape (N, D) giving training data.
        - y: A numpy array of shape (N,) giving training labels; y[i] = c means that
          X[i] has label c, where 0 <= c < C.
        - X_val: A numpy array of shape (N_val, D) giving validation data.
        - y_val: A numpy array of shape (N_val,) giving validation labels.
        - learning_rate: Scalar giving learning rate for optimization.
        - learning_rate_decay: Scalar giving factor used to decay the learning rate
          after each epoch.
        - reg: Scalar giving regularization strength.
        - num_iters: Number of steps to take when optimizing.
        - batch_size: Number of training examples to use per step.
        - verbose: boolean; if true print progress during optimization.
        - momentum: Scalar in [0, 1) giving the momentum of the SGD update; the
          default 0.0 is plain SGD (the handout's original call passes no momentum).
        """
        num_train = X.shape[0]
        # Integer division: with a float the `it % iterations_per_epoch == 0` test
        # below only fires at it=0 whenever num_train is not a multiple of batch_size
        # (e.g. 1197 digits), and the learning rate would never decay.
        iterations_per_epoch = max(num_train // batch_size, 1)

        # One velocity per parameter, at rest; with momentum=0.0 the update below is
        # exactly plain SGD (p += -lr * dp).
        velocity = {name: np.zeros_like(p) for name, p in self.params.items()}

        # Use SGD to optimize the parameters in self.params
        loss_history = []
        train_acc_history = []
        val_acc_history = []

        for it in xrange(num_iters):
            X_batch = None
            y_batch = None

            # BEGIN SOLUTION: Sample a minibatch of batch_size training examples with replacement (np.random.choice) into X_batch and y_batch
            batch_idx = np.random.choice(num_train, batch_size, replace=True)
            X_batch = X[batch_idx]
            y_batch = y[batch_idx]
            # END SOLUTION

            # Compute loss and gradients using the current minibatch
            loss, grads = self.loss(X_batch, y=y_batch, reg=reg)
            loss_history.append(loss)

            # BEGIN SOLUTION: Update every parameter in self.params by SGD with momentum: velocity[name] = momentum * velocity[name] - learning_rate * grads[name], then add velocity[name] to the parameter
            for name, param in self.params.items():
                velocity[name] = momentum * velocity[name] - learning_rate * grads[name]
                param += velocity[name]   # in place: self.params keeps the same arrays
            # END SOLUTION

            if verbose and it % 100 == 0:
                print('iteration %d / %d: loss %f' % (it, num_iters, loss))

            # Every epoch, check train and val accuracy and decay learning rate.
            if it % iterations_per_epoch == 0:
                # Check accuracy
                train_acc = (self.predict(X_batch) == y_batch).mean()
                val_acc = (self.predict(X_val) == y_val).mean()
                train_acc_history.append(train_acc)
                val_acc_history.append(val_acc)

                # Decay learning rate
                learning_rate *= learning_rate_decay

        return {
            'loss_history': loss_history,
            'train_acc_history': train_acc_history,
            'val_acc_history': val_acc_history,
        }

    def predict(self, X: np.ndarray) -> np.ndarray:
        """
        Use the trained weights of this two-layer network to predict labels for
        data points. For each data point we predict scores for each of the C
        classes, and assign each data point to the class with the highest score.

        Inputs:
        - X: A numpy array of shape (N, D) giving N D-dimensional data points to
          classify.

        Returns:
        - y_pred: A numpy array of shape (N,) giving predicted labels for each of
          the elements of X. For all i, y_pred[i] = c means that X[i] is predicted
          to have class c, where 0 <= c < C.
        """
        y_pred = None

        # BEGIN SOLUTION: Predict the class of each row of X: the index of its highest score, an int array of shape (N,)
        y_pred = np.argmax(self.loss(X), axis=1)
        # END SOLUTION

        return y_pred
