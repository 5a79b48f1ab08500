"""The softmax normalises over the wrong axis."""

TITLE = (
    "Your softmax normalises each column (over the examples, axis=0) instead of each row (over the classes, axis=1): "
    "every example's class probabilities must sum to 1."
)
HANDOUT = (
    'Exercise 9, "Forward pass: compute loss": the data loss is the average cross-entropy softmax loss; '
    "the softmax of example i is exp(s_i,c) / Σ_c' exp(s_i,c')."
)
HOW_TO_CHECK = (
    "Compute your probabilities for the toy data and print probs.sum(axis=1): every entry must be 1. "
    "Use axis=1 (with keepdims=True) in the max and the sum of your softmax."
)
CHECKS = ("toy_data_loss", "toy_loss", "hidden_loss", "gradients", "hidden_gradients")
PATCHES = (
    ("scores.max(axis=1, keepdims=True)", "scores.max(axis=0, keepdims=True)"),
    ("np.exp(shifted).sum(axis=1, keepdims=True)", "np.exp(shifted).sum(axis=0, keepdims=True)"),
)
