"""The softmax does not subtract the maximum score (it overflows on large scores)."""

TITLE = (
    "Your softmax computes exp() of the raw scores: with scores near 1000 exp() overflows and the loss "
    "becomes inf or NaN. Subtracting each row's maximum score first gives the same probabilities without overflow."
)
HANDOUT = (
    'Exercise 9, "Forward pass: compute loss" (the softmax of the loss); a numerically stable softmax is '
    "good practice beyond what the handout asks."
)
HOW_TO_CHECK = (
    "Call your loss on the toy model with net.params['b2'] = np.array([1000.0, 1000.5, 999.0]): "
    "the loss must be a finite number. Write shifted = scores - scores.max(axis=1, keepdims=True) and "
    "take exp() of shifted."
)
CHECKS = ("stable_loss",)
PATCHES = (("shifted = scores - scores.max(axis=1, keepdims=True)", "shifted = scores"),)
