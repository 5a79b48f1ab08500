"""Imports a module that is not installed anywhere."""

import tensorflow_for_the_win  # noqa: F401
import working_net

TwoLayerNet = working_net.TwoLayerNet
