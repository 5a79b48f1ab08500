"""The backward pass has no ReLU mask."""

TITLE = (
    "Your backward pass lets the gradient through hidden units that the ReLU switched off: "
    "after dhidden = dscores · W2ᵀ, the ReLU mask is missing, so dW1 and db1 are wrong while dW2 and db2 are right."
)
HANDOUT = (
    'Exercise 9, "Backward pass": compute the gradient with respect to W1, b1, W2 and b2; '
    "the hidden layer is ReLU(X·W1 + b1) = max(0, X·W1 + b1) (equation 1)."
)
HOW_TO_CHECK = (
    "Set dhidden to 0 wherever X·W1 + b1 <= 0 before computing dW1 and db1, then run the handout's "
    "numeric gradient check: W1 and b1 should reach a relative error below 1e-8."
)
CHECKS = ("gradients", "hidden_gradients")
PATCHES = (("dhidden[hidden_pre <= 0] = 0.0", "pass  # no ReLU mask"),)
