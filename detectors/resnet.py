"""ResNet detectors with one logit, named as torchvision names ResNet-50's weights.

The parameter names and shapes of ``resnet50`` are those of torchvision's
ResNet-50 (``conv1``, ``bn1``, ``layer1`` .. ``layer4`` of bottleneck blocks,
``fc``), with the classifier replaced by ``Linear(2048, 1)``: the checkpoints
released with CNNDetection (Wang et al., CVPR 2020) load with strict key matching.
Narrower and shallower variants share the same code for training on a CPU.
"""

import dataclasses

import torch
from torch import nn

from .preprocess import PreprocessConfig

__all__ = [
    "Bottleneck",
    "ResNetDetector",
    "create_detector",
    "list_detectors",
    "register_detector",
]


class Bottleneck(nn.Module):
    """Bottleneck residual block (1x1 -> 3x3 -> 1x1), stride on the 3x3 conv.

    Parameters
    ----------
    in_channels : int
        Channels entering the block.
    width : int
        Channels of the inner 3x3 convolution; the block outputs ``4 * width``.
    stride : int, optional
        Stride of the 3x3 convolution.
    downsample : torch.nn.Module, optional
        Projection of the identity path (1x1 conv + batch norm) when the shape
        changes.
    """

    expansion = 4

    def __init__(self, in_channels, width, stride=1, downsample=None):
        super().__init__()
        out_channels = width * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        """Return ``relu(residual(x) + shortcut(x))``."""
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + shortcut)


class ResNetDetector(nn.Module):
    """ResNet of bottleneck blocks ending in one logit (positive = fake).

    Parameters
    ----------
    layers : tuple of 4 ints, optional
        Blocks per stage; (3, 4, 6, 3) is ResNet-50.
    base_width : int, optional
        Inner width of the first stage (64 in ResNet-50); stage ``i`` uses
        ``base_width * 2**i``, so the feature dimension is ``32 * base_width``.
    preprocess_config : PreprocessConfig, optional
        Input settings stored with the model and written into its checkpoints.

    Notes
    -----
    Initialisation: convolutions He-normal (fan-out), batch norms weight 1 and
    bias 0, as torchvision; the head's weight Normal(0, 0.02) as the paper's
    ``init_gain``. The head's bias starts at 0 (the official code leaves PyTorch's
    default uniform bias there).

    Examples
    --------
    >>> import torch
    >>> model = ResNetDetector(layers=(1, 1, 1, 1), base_width=4).eval()
    >>> tuple(model(torch.zeros(2, 3, 32, 32)).shape)
    (2,)
    """

    def __init__(self, layers=(3, 4, 6, 3), base_width=64, preprocess_config=None):
        super().__init__()
        layers = tuple(int(n) for n in layers)
        if len(layers) != 4 or min(layers) < 1:
            raise ValueError(
                f"layers must be 4 positive block counts; got {layers!r}"
            )
        if isinstance(base_width, bool) or int(base_width) != base_width or (
            base_width < 1
        ):
            raise ValueError(f"base_width must be a positive integer; "
                             f"got {base_width!r}")
        base_width = int(base_width)
        self.layers = layers
        self.base_width = base_width
        self.preprocess_config = (
            PreprocessConfig() if preprocess_config is None else preprocess_config
        )

        # Stem: 7x7 stride-2 conv and 3x3 stride-2 max pool (input / 4).
        self.conv1 = nn.Conv2d(3, base_width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        # Feature stages: strides 1, 2, 2, 2.
        in_channels = base_width
        for index, blocks in enumerate(layers):
            width = base_width * 2**index
            stage, in_channels = _make_stage(
                in_channels, width, blocks, stride=1 if index == 0 else 2
            )
            self.add_module(f"layer{index + 1}", stage)
        self.num_features = in_channels

        # Head: global average pool and one logit.
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(self.num_features, 1)
        self.reset_parameters()

    def reset_parameters(self):
        """Initialise all weights as described in the class Notes."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out",
                                        nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        nn.init.normal_(self.fc.weight, 0.0, 0.02)
        nn.init.zeros_(self.fc.bias)

    def forward_features(self, x):
        """Return the last stage's feature map ``(B, num_features, h, w)``."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)

    def forward_head(self, x, *, pre_logits=False):
        """Pool a feature map; return pooled features or logits ``(B,)``."""
        x = torch.flatten(self.avgpool(x), 1)
        if pre_logits:
            return x
        return self.fc(x)[:, 0]

    def forward(self, x):
        """Return one logit per image, shape ``(B,)``; sigmoid gives P(fake)."""
        return self.forward_head(self.forward_features(x))

    def extra_repr(self):
        """Describe the architecture in ``repr(model)``."""
        return f"layers={self.layers}, base_width={self.base_width}"


def _make_stage(in_channels, width, blocks, stride):
    """Build one stage of bottleneck blocks; return it and its output channels."""
    out_channels = width * Bottleneck.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
            nn.BatchNorm2d(out_channels),
        )
    modules = [Bottleneck(in_channels, width, stride, downsample)]
    modules += [Bottleneck(out_channels, width) for _ in range(blocks - 1)]
    return nn.Sequential(*modules), out_channels


@dataclasses.dataclass(frozen=True)
class _Entry:
    """A registered architecture: its constructor arguments and a description."""

    layers: tuple
    base_width: int
    description: str
    weights_file: str | None = None


_REGISTRY = {}


def register_detector(name, *, layers, base_width, description,
                      weights_file=None):
    """Register a named ResNet variant for :func:`create_detector`.

    Parameters
    ----------
    name : str
        New, unused name.
    layers : tuple of 4 ints
        Blocks per stage.
    base_width : int
        Inner width of the first stage.
    description : str
        One line shown by :func:`list_detectors`.
    weights_file : str, optional
        A local checkpoint used by ``pretrained=True``. Nothing is ever
        downloaded.

    Raises
    ------
    ValueError
        The name is taken.
    """
    if name in _REGISTRY:
        raise ValueError(f"a detector named {name!r} is already registered")
    _REGISTRY[name] = _Entry(tuple(layers), int(base_width), description,
                             weights_file)


register_detector(
    "resnet50", layers=(3, 4, 6, 3), base_width=64,
    description="ResNet-50, the CNNDetection network (23.5 M parameters)",
)
register_detector(
    "resnet50_half", layers=(3, 4, 6, 3), base_width=32,
    description="ResNet-50 depth at half width (5.9 M parameters)",
)
register_detector(
    "resnet26_quarter", layers=(2, 2, 2, 2), base_width=16,
    description="8 bottleneck blocks at quarter width (0.9 M parameters)",
)
register_detector(
    "resnet_tiny", layers=(1, 1, 1, 1), base_width=8,
    description="one block per stage at 1/8 width (0.13 M parameters), for tests",
)


def list_detectors():
    """Return ``{name: description}`` of the registered architectures.

    Examples
    --------
    >>> "resnet50" in list_detectors()
    True
    """
    return {name: entry.description for name, entry in sorted(_REGISTRY.items())}


def create_detector(name, *, pretrained=False, **kwargs):
    """Build a registered detector by name.

    Parameters
    ----------
    name : str
        One of :func:`list_detectors`.
    pretrained : bool or str or os.PathLike, optional
        False: random initialisation. A path: load that local checkpoint (see
        :func:`detectors.load_checkpoint`). True: the architecture's registered
        local weights file; none is shipped, so this raises unless one was
        registered.
    **kwargs
        Override ``layers``, ``base_width`` or pass ``preprocess_config``; None
        values are dropped so that the registered defaults win.

    Returns
    -------
    ResNetDetector
        In training mode when random, in eval mode when weights were loaded.

    Raises
    ------
    ValueError
        Unknown name.
    FileNotFoundError
        ``pretrained=True`` without a local weights file. Nothing is downloaded.

    Examples
    --------
    >>> model = create_detector("resnet_tiny")
    >>> model.num_features
    256
    """
    entry = _REGISTRY.get(name)
    if entry is None:
        raise ValueError(
            f"unknown detector {name!r}; registered: {sorted(_REGISTRY)!r}"
        )
    kwargs = {key: value for key, value in kwargs.items() if value is not None}
    kwargs.setdefault("layers", entry.layers)
    kwargs.setdefault("base_width", entry.base_width)
    model = ResNetDetector(**kwargs)
    if pretrained is False or pretrained is None:
        return model
    if pretrained is True:
        if entry.weights_file is None:
            raise FileNotFoundError(
                f"no weights are shipped for {name!r} and nothing is downloaded; "
                "pass pretrained='path/to/checkpoint.pth' (for example the "
                "official blur_jpg_prob0.1.pth for 'resnet50') or use "
                "detectors.load_checkpoint"
            )
        pretrained = entry.weights_file
    from .weights import load_checkpoint

    return load_checkpoint(pretrained, model=model)


def _arch_kwargs(model):
    """Return the constructor arguments that rebuild ``model``'s architecture."""
    return {"layers": list(model.layers), "base_width": model.base_width}


def _arch_name(model):
    """Return the registered name matching ``model``'s shape, or None."""
    for name, entry in _REGISTRY.items():
        if entry.layers == model.layers and entry.base_width == model.base_width:
            return name
    return None
