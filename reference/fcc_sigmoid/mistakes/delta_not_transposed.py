"""The output delta is not transposed to (classes, examples)."""

TITLE = (
    "Your delta of the last layer has shape (examples, classes); the handout's delta is transposed, "
    "of shape (classes, examples), and backprop multiplies it in that layout."
)
HANDOUT = (
    'DL Tutorial 1, delta_last_layer: ":return: delta of softmax", transposed "h --> delta shape" (classes, examples).'
)
HOW_TO_CHECK = "Print delta_last_layer_easy_approach(h, y).shape for h of shape (6, 10): it must be (10, 6)."
CHECKS = ("deltas",)
PATCHES = (("return (h - one_hots).T", "return (h - one_hots)"),)
