"""A source file saved in Latin-1 without an encoding declaration (the author's name
has an é; the fixture spells it <LATIN1:é> and the test writes the single byte 0xE9)."""

# Author: Ren<LATIN1:é> Descartes

import working_net

TwoLayerNet = working_net.TwoLayerNet
