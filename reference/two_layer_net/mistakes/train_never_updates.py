"""train never updates the parameters."""

TITLE = (
    "Your train computes the loss and the gradients but never changes the parameters: after training, "
    "W1, b1, W2 and b2 are exactly the initial ones, so the loss never moves."
)
HANDOUT = (
    'Exercise 9, "Train the network": TwoLayerNet.train implements stochastic gradient descent, '
    "which updates every parameter in self.params with its gradient after each minibatch."
)
HOW_TO_CHECK = (
    "Copy net.params['W1'] before training and compare it afterwards; then plot stats['loss_history']: "
    "on the toy data it must fall below 0.02 within 100 iterations."
)
CHECKS = ("toy_training",)
PATCHES = (("param += velocity[name]", "pass  # never updates the parameters"),)
