"""The output delta has the wrong sign."""

TITLE = (
    "Your delta of the last layer has the wrong sign: one_hot − h instead of h − one_hot. "
    "Every gradient then points uphill, and gradient descent makes the loss grow."
)
HANDOUT = (
    'DL Tutorial 1, delta_last_layer_easy_approach: "(4.30) and (4.31) can be reshaped" to '
    "δ = h − y_one_hot, of shape (classes, examples)."
)
HOW_TO_CHECK = (
    "For h = softmax(logits) and labels y, your delta at (y[n], n) must be h[n, y[n]] − 1, a negative number; "
    "compare both of your delta functions: they must agree."
)
CHECKS = ("deltas", "backprop", "hidden_network")
PATCHES = (("return (h - one_hots).T", "return (one_hots - h).T"),)
