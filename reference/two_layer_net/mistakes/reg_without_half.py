"""reg · ΣW² instead of 0.5 · reg · ΣW² (the later cs231n years' convention)."""

TITLE = (
    "Your regularisation is reg · (ΣW1² + ΣW2²), without the factor 0.5 (the convention of later cs231n years), "
    "with the matching gradient 2 · reg · W. This handout's loss is the data loss plus 0.5 · reg · (ΣW1² + ΣW2²), "
    "whose gradient is reg · W."
)
HANDOUT = (
    'Exercise 9, "Forward pass: compute loss": the data and regularization loss; the toy model\'s loss '
    "with reg=0.1 is 1.30378789133."
)
HOW_TO_CHECK = (
    "Print net.loss(X, y, reg=0.1)[0] for the handout's toy model: it must be 1.30378789133. "
    "If it is about 0.04 higher, halve your regularisation term and its gradient."
)
CHECKS = ("toy_loss", "hidden_loss", "gradients", "hidden_gradients")
PATCHES = (
    ("reg_loss = 0.5 * reg *", "reg_loss = reg *"),
    ("+ reg * W2", "+ 2 * reg * W2"),
    ("+ reg * W1", "+ 2 * reg * W1"),
)
