"""backprop sums the gradients over the batch instead of averaging them."""

TITLE = (
    "Your backprop sums the gradients over the examples instead of averaging them: every gradient is "
    "as many times too large as the batch has examples, and the learning rate no longer means what the handout says."
)
HANDOUT = (
    "DL Tutorial 1, backprop: (4.27) divides by the number of training examples and (4.28) takes "
    "np.mean over the examples, because the loss is the mean cross-entropy."
)
HOW_TO_CHECK = (
    "Compare backprop with a numerical gradient of cross_entropy (a mean) on a tiny net: if every "
    "ratio analytic / numeric equals the batch size, divide by it (or use np.mean)."
)
CHECKS = ("backprop", "hidden_network")
PATCHES = (
    ("num_train_ex = y.shape[0]", "num_train_ex = 1"),
    ("self.db_out = np.mean(delta_out, axis=1)", "self.db_out = np.sum(delta_out, axis=1)"),
    ("self.db_h2 = np.mean(delta_h2, axis=1)", "self.db_h2 = np.sum(delta_h2, axis=1)"),
    ("self.db_h1 = np.mean(delta_h1, axis=1)", "self.db_h1 = np.sum(delta_h1, axis=1)"),
)
