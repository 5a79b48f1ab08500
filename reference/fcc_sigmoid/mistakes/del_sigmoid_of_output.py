"""del_sigmoid applies the sigmoid again to what already is a sigmoid's output."""

TITLE = (
    "Your del_sigmoid computes sigmoid(h) · (1 − sigmoid(h)), but h already is the sigmoid's output: "
    "the derivative from the output is h · (1 − h)."
)
HANDOUT = 'DL Tutorial 1, del_sigmoid(h): ":param h: output of sigmoid function, i.e. h = sigmoid(x)".'
HOW_TO_CHECK = "del_sigmoid(np.array([0.5])) must be 0.25 and del_sigmoid(np.array([1.0])) must be 0."
CHECKS = ("del_sigmoid", "backprop", "hidden_network")
PATCHES = (("return h * (1 - h)", "return sigmoid(h) * (1 - sigmoid(h))"),)
