"""A NUL byte in a comment (the fixture spells it <NUL>; the test writes the real byte)."""

import working_net

# a stray <NUL> byte from a broken editor

TwoLayerNet = working_net.TwoLayerNet
