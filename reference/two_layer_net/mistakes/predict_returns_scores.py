"""predict returns the scores instead of the classes."""

TITLE = (
    "Your predict returns the class scores, an array of shape (N, C), instead of the predicted class of each "
    "example: the index of its highest score, an array of shape (N,)."
)
HANDOUT = (
    'Exercise 9, "Train the network": implement TwoLayerNet.predict, which returns y_pred of shape (N,) '
    "with y_pred[i] = c, the predicted class of X[i]."
)
HOW_TO_CHECK = (
    "Print net.predict(X).shape for X of shape (5, 4): it must be (5,). Take np.argmax of the scores along axis 1."
)
CHECKS = ("predict",)
PATCHES = (("y_pred = np.argmax(self.loss(X), axis=1)", "y_pred = self.loss(X)"),)
