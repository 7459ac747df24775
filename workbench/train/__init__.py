"""train(): a generator of Progress records; fit(): drains it with a progress bar.

The optimizer step is *functional*: parameters, Adam moments and the batch go in, new ones come
out. That keeps the last good parameters around for free (the divergence guard restores them)
and lets a compiled step fuse loss, derivatives, backward pass and Adam update into one
``torch.compile``-d graph, which is what makes a small PINN step several times cheaper than
eager PyTorch on a CPU (see benchmarks/pinn_burgers.py and benchmarks/peers.py). The
``compile`` knob's default, ``"auto"``, decides where that pays (:mod:`.compiling`).
"""

from workbench.train.loop import fit, train
from workbench.train.progress import Progress, Stopped
from workbench.train.session import LBFGS_CHUNK
from workbench.train.settings import Training

__all__ = ["train", "fit", "Training", "Progress", "Stopped", "LBFGS_CHUNK"]
