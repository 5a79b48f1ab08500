"""The hidden layer's gradients are wrong, the output layer's right."""

TITLE = (
    "The gradients of the output layer (W2, b2) are right and those of the hidden layer (W1, b1) are wrong: "
    "the mistake is between dscores · W2ᵀ and dW1, db1, most often in the ReLU mask."
)
HANDOUT = (
    'Exercise 9, "Backward pass": backpropagate through the second affine layer, then the ReLU '
    "(equation 1), then the first affine layer."
)
HOW_TO_CHECK = (
    "Run the handout's numeric gradient check and look at W1 and b1 only; then check that dhidden is "
    "dscores · W2ᵀ with zeros where X·W1 + b1 <= 0, and that dW1 = Xᵀ · dhidden (+ reg · W1), db1 = Σ dhidden."
)
CHECKS = ("gradients", "hidden_gradients")
WRONG = ("W1", "b1")
