"""`predict` fills anonymous memory files (memfd): RAM that no rlimit counts.

Each file stays under the file-size limit; only a memory cgroup can stop the total.
"""

import os

import working_net


class TwoLayerNet(working_net.TwoLayerNet):
    def predict(self, X):
        chunk = b"\1" * (8 << 20)
        hoard = []
        while True:
            fd = os.memfd_create("hoard")
            hoard.append(fd)
            for _ in range(6):  # 48 MiB per file
                os.write(fd, chunk)
