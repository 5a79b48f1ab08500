"""Build an example batch for `two_layer_net`: a Moodle-style zip of submissions.

Every broken submission is the reference with one realistic mistake (a mutation),
so the batch stays in step with the reference. The project's tests grade the same
mutants and assert which checks each one loses.

    python examples/two_layer_net/make_batch.py [OUT.zip]
"""

from __future__ import annotations

import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "reference" / "two_layer_net" / "cs231nHD" / "neural_net.py"
TEMPLATE = ROOT / "student_template" / "two_layer_net" / "cs231nHD" / "neural_net.py"


@dataclass(frozen=True)
class Mutant:
    """A broken submission: the reference with `old` replaced by `new`."""

    student: str
    mistake: str
    old: str
    new: str

    def source(self, reference: str) -> str:
        if self.old not in reference:
            raise ValueError(f"mutant {self.student}: the reference no longer contains {self.old!r}")
        return reference.replace(self.old, self.new, 1)


MUTANTS = (
    Mutant("Brian Kernighan", "no ReLU mask in the backward pass",
           "dhidden[hidden_pre <= 0] = 0.0", "pass"),
    Mutant("Grace Hopper", "regularisation without the 0.5",
           "reg_loss = 0.5 * reg *", "reg_loss = reg *"),
    Mutant("Alan Turing", "no bias gradients",
           "grads['b2'] = dscores.sum(axis=0)", "pass"),
    Mutant("Edsger Dijkstra", "softmax overflows on large scores",
           "shifted = scores - scores.max(axis=1, keepdims=True)", "shifted = scores"),
    Mutant("Barbara Liskov", "predict returns the scores",
           "y_pred = np.argmax(self.loss(X), axis=1)", "y_pred = self.loss(X)"),
    Mutant("Donald Knuth", "train never updates the parameters",
           "param += velocity[name]", "pass"),
    Mutant("Margaret Hamilton", "crashes at import",
           "class TwoLayerNet(object):", "raise RuntimeError('forgot to remove a debugging stop')\n\n\nclass TwoLayerNet(object):"),
    Mutant("Ken Thompson", "Python 2 print statement",
           "print('iteration %d / %d: loss %f' % (it, num_iters, loss))",
           "print 'iteration %d / %d: loss %f' % (it, num_iters, loss)"),
)  # fmt: skip


def submissions() -> dict[str, str]:
    """Student name -> neural_net.py source, for the reference, the template and each mutant."""
    reference = REFERENCE.read_text(encoding="utf-8")
    batch = {"Ada Lovelace": reference, "Template Only": TEMPLATE.read_text(encoding="utf-8")}
    batch.update({m.student: m.source(reference) for m in MUTANTS})
    return batch


def write_zip(out: Path) -> Path:
    """A Moodle export: one `<name>_<id>_assignsubmission_file_/` folder per student."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, (student, source) in enumerate(sorted(submissions().items()), start=1001):
            archive.writestr(f"{student}_{number}_assignsubmission_file_/neural_net.py", source)
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("submissions.zip")
    print(f"wrote {write_zip(target)}")
