"""The biases are regularised too."""

TITLE = (
    "Your regularisation includes the biases b1 and b2 (and their gradients carry reg · b). "
    "The handout regularises the weight matrices W1 and W2 only."
)
HANDOUT = (
    'Exercise 9, "Forward pass: compute loss": L2 regularization on the weight matrices '
    '(the network\'s docstring: "L2 regularization on the weight matrices").'
)
HOW_TO_CHECK = (
    "Give the toy model non-zero biases and compare your loss with reg=0.1 and with reg=0: "
    "the difference must be 0.5 · 0.1 · (ΣW1² + ΣW2²), with no b1 or b2 in it."
)
CHECKS = ("hidden_loss", "hidden_gradients")
PATCHES = (
    (
        "reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))",
        "reg_loss = 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(b1 * b1) + np.sum(b2 * b2))",
    ),
    ("grads['b2'] = dscores.sum(axis=0)", "grads['b2'] = dscores.sum(axis=0) + reg * b2"),
    ("grads['b1'] = dhidden.sum(axis=0)", "grads['b1'] = dhidden.sum(axis=0) + reg * b1"),
)
