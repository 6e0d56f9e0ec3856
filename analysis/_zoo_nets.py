"""Small generators of the simulated zoo, one per generator family of CNNDetection.

Every network maps a batch of real crops ``(B, 3, H, W)`` in [-1, 1] (``H`` and
``W`` multiples of 8) to a fake batch of the same shape. It first degrades its
input the way its namesake's input is poor (a low-resolution encoding, a label
map, a dark noisy raw mosaic, a bicubic-downscaled image) and then rebuilds the
crop through the namesake's upsampling path, so the output follows the photo's
content while carrying the family's upsampling traces. Randomness inside the
forward pass (style noise, sensor noise, IMLE noise) is drawn from the optional
``generator`` argument, a :class:`torch.Generator`, so outputs are reproducible.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

__all__ = ["NETWORKS", "content_class", "quantised_labels"]


# Degradations and shared pieces -------------------------------------------------


def _randn(shape, like, generator):
    return torch.randn(shape, generator=generator, dtype=like.dtype).to(like.device)


def content_class(x, n_classes=8):
    """Return a class index per image from its mean luminance and saturation.

    Four luminance bins times two saturation bins (grey-ish or colourful), so
    class-conditional families see a label that follows the content.
    """
    x01 = (x + 1) / 2
    lum = x01.mean(dim=(1, 2, 3))
    sat = (x01.amax(dim=1) - x01.amin(dim=1)).mean(dim=(1, 2))
    lum_bin = torch.clamp((lum * 4).long(), 0, 3)
    sat_bin = (sat > 0.08).long()
    return (lum_bin * 2 + sat_bin) % n_classes


def quantised_labels(x, levels=3):
    """Return a one-hot label map from a fixed colour palette (``levels**3`` labels).

    Each RGB channel is quantised to ``levels`` values; the label is the index of
    the palette cell. A label map with absolute colours, made from the photo, that
    the label-driven families (GauGAN, CRN, IMLE) render back into an image.
    """
    x01 = ((x + 1) / 2).clamp(0, 1)
    q = torch.clamp((x01 * levels).long(), 0, levels - 1)
    idx = q[:, 0] * levels * levels + q[:, 1] * levels + q[:, 2]
    return F.one_hot(idx, levels**3).permute(0, 3, 1, 2).to(x.dtype)


def _bilinear_up(x):
    # x2 with the bilinear (tent) kernel: StyleGAN2's [1, 3, 3, 1] upsampling filter.
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def _area_down(x, factor):
    return F.avg_pool2d(x, factor) if factor > 1 else x


def _mapping(in_dim, w_dim):
    # The style MLP of both StyleGAN generators (its layer names are in the weights).
    return nn.Sequential(
        nn.Linear(in_dim, w_dim),
        nn.LeakyReLU(0.2),
        nn.Linear(w_dim, w_dim),
        nn.LeakyReLU(0.2),
    )


def _encoder(widths, act=None):
    # Full-resolution conv, then one stride-2 conv per further width.
    act = act or (lambda: nn.LeakyReLU(0.2))
    layers = [nn.Conv2d(3, widths[0], 3, padding=1), act()]
    for cin, cout in zip(widths[:-1], widths[1:], strict=False):
        layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), act()]
    return nn.Sequential(*layers)


class _PixelNorm(nn.Module):
    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


# ProGAN ---------------------------------------------------------------------------


class ProGANGen(nn.Module):
    """ProGAN-like decoder: nearest x2 + two 3x3 convs with pixel norm per stage.

    Decodes a learned 1/8-resolution encoding of the crop through three stages;
    a 1x1 ``toRGB`` gives the output.
    """

    upsampler = "nearest x2 + conv3x3, pixel norm (3 stages)"

    def __init__(self, widths=(16, 32, 48, 64)):
        super().__init__()
        self.encode = _encoder(list(widths))
        dec = list(widths[::-1])
        blocks = []
        for cin, cout in zip(dec[:-1], dec[1:], strict=False):
            blocks.append(
                nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    nn.Conv2d(cin, cout, 3, padding=1),
                    nn.LeakyReLU(0.2),
                    _PixelNorm(),
                    nn.Conv2d(cout, cout, 3, padding=1),
                    nn.LeakyReLU(0.2),
                    _PixelNorm(),
                )
            )
        self.blocks = nn.Sequential(*blocks)
        self.to_rgb = nn.Conv2d(dec[-1], 3, 1)

    def forward(self, real, generator=None):
        """Return the fake batch for a real batch in [-1, 1]."""
        return self.to_rgb(self.blocks(self.encode(real)))


# StyleGAN -------------------------------------------------------------------------


class _NoiseStyle(nn.Module):
    # conv -> per-pixel noise with a learned per-channel strength -> lrelu -> AdaIN.
    def __init__(self, cin, cout, w_dim):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.noise_strength = nn.Parameter(torch.zeros(1, cout, 1, 1))
        self.style = nn.Linear(w_dim, 2 * cout)
        nn.init.zeros_(self.style.weight)
        with torch.no_grad():
            self.style.bias[:cout] = 1.0
            self.style.bias[cout:] = 0.0

    def forward(self, x, w, generator):
        x = self.conv(x)
        b, _, h, wd = x.shape
        x = x + self.noise_strength * _randn((b, 1, h, wd), x, generator)
        x = F.leaky_relu(x, 0.2)
        x = F.instance_norm(x)
        scale, bias = self.style(w).chunk(2, dim=1)
        return x * scale[:, :, None, None] + bias[:, :, None, None]


class StyleGANGen(nn.Module):
    """StyleGAN-like decoder: bilinear (low-pass) x2, per-stage noise, AdaIN styles.

    The style vector comes from a mapping MLP on the pooled encoding; the
    synthesis starts from the 1/8-resolution encoding instead of a constant.
    """

    upsampler = "bilinear x2 (low-pass) + conv3x3, noise + AdaIN (3 stages)"

    def __init__(self, widths=(16, 32, 48, 64), w_dim=64):
        super().__init__()
        self.encode = _encoder(list(widths))
        self.mapping = _mapping(widths[-1], w_dim)
        dec = list(widths[::-1])
        self.layers = nn.ModuleList()
        for cin, cout in zip(dec[:-1], dec[1:], strict=False):
            self.layers.append(_NoiseStyle(cin, cout, w_dim))
            self.layers.append(_NoiseStyle(cout, cout, w_dim))
        self.to_rgb = nn.Conv2d(dec[-1], 3, 1)

    def forward(self, real, generator=None):
        """Return the fake batch for a real batch in [-1, 1]."""
        x = self.encode(real)
        w = self.mapping(x.mean(dim=(2, 3)))
        for i, layer in enumerate(self.layers):
            if i % 2 == 0:
                x = _bilinear_up(x)
            x = layer(x, w, generator)
        return self.to_rgb(x)


# StyleGAN2 ------------------------------------------------------------------------


class _ModConv(nn.Module):
    # Modulated (and optionally demodulated) convolution as in StyleGAN2.
    def __init__(self, cin, cout, k, w_dim, demodulate=True):
        super().__init__()
        fan_in = cin * k * k
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k) / math.sqrt(fan_in))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.affine = nn.Linear(w_dim, cin)
        nn.init.zeros_(self.affine.weight)
        nn.init.ones_(self.affine.bias)
        self.demodulate = demodulate
        self.pad = k // 2

    def forward(self, x, w):
        b, cin, h, wd = x.shape
        s = self.affine(w)
        weight = self.weight[None] * s[:, None, :, None, None]
        if self.demodulate:
            d = torch.rsqrt(weight.pow(2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
            weight = weight * d
        cout = weight.shape[1]
        out = F.conv2d(
            x.reshape(1, b * cin, h, wd),
            weight.reshape(b * cout, cin, *weight.shape[3:]),
            padding=self.pad,
            groups=b,
        )
        return out.reshape(b, cout, h, wd) + self.bias[None, :, None, None]


class StyleGAN2Gen(nn.Module):
    """StyleGAN2-like decoder: modulated-demodulated convs and skip RGB outputs.

    Per stage: filtered (bilinear, equal to the [1, 3, 3, 1] kernel) x2 of the
    features, two modulated-demodulated 3x3 convs with noise, a 1x1 modulated
    ``toRGB``; the RGB image of the previous stage is upsampled with the same
    filter and added (the skip generator).
    """

    upsampler = "filtered x2 ([1,3,3,1] = bilinear), mod/demod conv, skip RGB (3 st.)"

    def __init__(self, widths=(16, 32, 48, 64), w_dim=64):
        super().__init__()
        self.encode = _encoder(list(widths))
        self.mapping = _mapping(widths[-1], w_dim)
        dec = list(widths[::-1])
        self.convs = nn.ModuleList()
        self.noise = nn.ParameterList()
        self.to_rgbs = nn.ModuleList([_ModConv(dec[0], 3, 1, w_dim, demodulate=False)])
        for cin, cout in zip(dec[:-1], dec[1:], strict=False):
            self.convs.append(_ModConv(cin, cout, 3, w_dim))
            self.convs.append(_ModConv(cout, cout, 3, w_dim))
            self.noise.append(nn.Parameter(torch.zeros(2)))
            self.to_rgbs.append(_ModConv(cout, 3, 1, w_dim, demodulate=False))

    def forward(self, real, generator=None):
        """Return the fake batch for a real batch in [-1, 1]."""
        x = self.encode(real)
        w = self.mapping(x.mean(dim=(2, 3)))
        rgb = self.to_rgbs[0](x, w)
        for stage in range(len(self.noise)):
            x = _bilinear_up(x)
            for j in range(2):
                x = self.convs[2 * stage + j](x, w)
                b, _, h, wd = x.shape
                x = x + self.noise[stage][j] * _randn((b, 1, h, wd), x, generator)
                x = F.leaky_relu(x, 0.2)
            rgb = _bilinear_up(rgb)
            rgb = rgb + self.to_rgbs[stage + 1](x, w)
        return rgb


# BigGAN ---------------------------------------------------------------------------


class _CondNorm(nn.Module):
    # Class-conditional normalisation: parameter-free group norm, gain and bias
    # from a class embedding (BigGAN's conditional batch norm, per sample).
    def __init__(self, channels, embed_dim):
        super().__init__()
        self.groups = min(8, channels)
        self.gain = nn.Linear(embed_dim, channels)
        self.bias = nn.Linear(embed_dim, channels)
        nn.init.zeros_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)
        nn.init.zeros_(self.gain.bias)
        nn.init.zeros_(self.bias.bias)

    def forward(self, x, emb):
        x = F.group_norm(x, self.groups)
        gain, bias = self.gain(emb)[:, :, None, None], self.bias(emb)[:, :, None, None]
        return x * (1 + gain) + bias


class _UpResBlock(nn.Module):
    def __init__(self, cin, cout, embed_dim):
        super().__init__()
        self.norm1 = _CondNorm(cin, embed_dim)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = _CondNorm(cout, embed_dim)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1)

    def forward(self, x, emb):
        h = F.relu(self.norm1(x, emb))
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        h = self.conv1(h)
        h = self.conv2(F.relu(self.norm2(h, emb)))
        return h + self.skip(F.interpolate(x, scale_factor=2, mode="nearest"))


class BigGANGen(nn.Module):
    """BigGAN-like decoder: residual up-blocks, nearest x2, class-conditional norm.

    The class is read from the crop (:func:`content_class`); the norm is a
    per-sample group norm whose gain and bias come from the class embedding.
    """

    upsampler = "residual up-blocks, nearest x2 + conv3x3, class-cond. norm (3 st.)"

    def __init__(self, widths=(16, 32, 48, 64), n_classes=8, embed_dim=16):
        super().__init__()
        self.n_classes = n_classes
        self.encode = _encoder(list(widths))
        self.embed = nn.Embedding(n_classes, embed_dim)
        dec = list(widths[::-1])
        self.blocks = nn.ModuleList(
            _UpResBlock(cin, cout, embed_dim)
            for cin, cout in zip(dec[:-1], dec[1:], strict=False)
        )
        self.out_norm = _CondNorm(dec[-1], embed_dim)
        self.to_rgb = nn.Conv2d(dec[-1], 3, 3, padding=1)

    def forward(self, real, generator=None):
        """Return the fake batch for a real batch in [-1, 1]."""
        emb = self.embed(content_class(real, self.n_classes))
        x = self.encode(real)
        for block in self.blocks:
            x = block(x, emb)
        return self.to_rgb(F.relu(self.out_norm(x, emb)))


# CycleGAN and StarGAN ---------------------------------------------------------------


def _norm(kind, ch):
    # CycleGAN's ``--norm`` option: "instance" or "none".
    return nn.InstanceNorm2d(ch, affine=True) if kind == "instance" else nn.Identity()


class _ResBlock(nn.Module):
    def __init__(self, ch, norm):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(ch, ch, 3),
            _norm(norm, ch),
            nn.ReLU(),
            nn.ReflectionPad2d(1),
            nn.Conv2d(ch, ch, 3),
            _norm(norm, ch),
        )

    def forward(self, x):
        return x + self.body(x)


def _resnet_generator(cin, widths, n_blocks, up_kernel, down_kernel, norm):
    c0, c1, c2 = widths
    pad_down = 1
    layers = [
        nn.ReflectionPad2d(3),
        nn.Conv2d(cin, c0, 7),
        _norm(norm, c0),
        nn.ReLU(),
        nn.Conv2d(c0, c1, down_kernel, stride=2, padding=pad_down),
        _norm(norm, c1),
        nn.ReLU(),
        nn.Conv2d(c1, c2, down_kernel, stride=2, padding=pad_down),
        _norm(norm, c2),
        nn.ReLU(),
    ]
    layers += [_ResBlock(c2, norm) for _ in range(n_blocks)]
    up = {"stride": 2, "padding": 1, "output_padding": 1 if up_kernel == 3 else 0}
    layers += [
        nn.ConvTranspose2d(c2, c1, up_kernel, **up),
        _norm(norm, c1),
        nn.ReLU(),
        nn.ConvTranspose2d(c1, c0, up_kernel, **up),
        _norm(norm, c0),
        nn.ReLU(),
        nn.ReflectionPad2d(3),
        nn.Conv2d(c0, 3, 7),
        nn.Tanh(),
    ]
    return nn.Sequential(*layers)


class CycleGANGen(nn.Module):
    """CycleGAN ResNet generator as the AutoGAN simulator (autoencoder).

    7x7 conv, two stride-2 3x3 downs, residual blocks, two
    ``ConvTranspose2d(k=3, s=2, p=1, output_padding=1)`` ups, 7x7 conv, tanh.
    Normalisation is CycleGAN's ``--norm`` option, ``"none"`` by default here:
    instance norm discards each crop's absolute colour and level, which a
    briefly trained autoencoder does not recover (15.6 dB against 23.1 dB test
    PSNR after 300 steps of batch 16).
    """

    upsampler = "ConvTranspose2d k3 s2 p1 op1 (2 stages)"

    def __init__(self, widths=(16, 32, 64), n_blocks=3, norm="none"):
        super().__init__()
        self.net = _resnet_generator(
            3, widths, n_blocks, up_kernel=3, down_kernel=3, norm=norm
        )

    def forward(self, real, generator=None):
        """Return the fake batch for a real batch in [-1, 1]."""
        return self.net(real)


class StarGANGen(nn.Module):
    """StarGAN generator: the CycleGAN shape with 4x4 strided convs and a domain code.

    The one-hot domain code (read from the crop with :func:`content_class`) is
    tiled over the image and concatenated to the input, as in StarGAN; the ups
    are ``ConvTranspose2d(k=4, s=2, p=1)``; no normalisation by default (see
    :class:`CycleGANGen`).
    """

    upsampler = "ConvTranspose2d k4 s2 p1 (2 stages)"

    def __init__(self, widths=(16, 32, 64), n_blocks=3, n_domains=8, norm="none"):
        super().__init__()
        self.n_domains = n_domains
        self.net = _resnet_generator(
            3 + n_domains, widths, n_blocks, up_kernel=4, down_kernel=4, norm=norm
        )

    def forward(self, real, generator=None):
        """Return the fake batch for a real batch in [-1, 1]."""
        c = F.one_hot(content_class(real, self.n_domains), self.n_domains).to(real)
        c = c[:, :, None, None].expand(-1, -1, *real.shape[2:])
        return self.net(torch.cat([real, c], dim=1))


# GauGAN ---------------------------------------------------------------------------


class _SPADE(nn.Module):
    # Parameter-free instance norm, then a per-pixel gain and bias predicted from
    # the label embedding of the block.
    def __init__(self, channels, hidden):
        super().__init__()
        self.gamma = nn.Conv2d(hidden, channels, 3, padding=1)
        self.beta = nn.Conv2d(hidden, channels, 3, padding=1)

    def forward(self, x, h):
        return F.instance_norm(x) * (1 + self.gamma(h)) + self.beta(h)


class _SPADEBlock(nn.Module):
    # SPADE residual block; its three SPADE layers share one label embedding
    # (computed once at the block's resolution).
    def __init__(self, cin, cout, n_labels, hidden=16):
        super().__init__()
        mid = min(cin, cout)
        self.shared = nn.Sequential(
            nn.Conv2d(n_labels, hidden, 3, padding=1), nn.ReLU()
        )
        self.norm0 = _SPADE(cin, hidden)
        self.conv0 = nn.Conv2d(cin, mid, 3, padding=1)
        self.norm1 = _SPADE(mid, hidden)
        self.conv1 = nn.Conv2d(mid, cout, 3, padding=1)
        self.norm_s = _SPADE(cin, hidden) if cin != cout else None
        self.conv_s = nn.Conv2d(cin, cout, 1, bias=False) if cin != cout else None

    def forward(self, x, labels):
        h = self.shared(F.interpolate(labels, size=x.shape[2:], mode="nearest"))
        skip = x if self.conv_s is None else self.conv_s(self.norm_s(x, h))
        y = self.conv0(F.leaky_relu(self.norm0(x, h), 0.2))
        y = self.conv1(F.leaky_relu(self.norm1(y, h), 0.2))
        return skip + y


class GauGANGen(nn.Module):
    """GauGAN-like generator: SPADE residual blocks modulated by a label map.

    The label map is the crop quantised to a fixed 27-colour palette
    (:func:`quantised_labels`); the synthesis starts from a 1/8-resolution
    encoding (GauGAN's style encoder) and runs SPADE blocks with nearest x2
    between them.
    """

    upsampler = "nearest x2 between SPADE res-blocks (3 stages)"

    def __init__(self, widths=(16, 24, 32, 48), levels=3):
        super().__init__()
        self.levels = levels
        n_labels = levels**3
        self.encode = _encoder(list(widths))
        dec = list(widths[::-1])
        self.head = _SPADEBlock(dec[0], dec[0], n_labels)
        self.blocks = nn.ModuleList(
            _SPADEBlock(cin, cout, n_labels)
            for cin, cout in zip(dec[:-1], dec[1:], strict=False)
        )
        self.to_rgb = nn.Conv2d(dec[-1], 3, 3, padding=1)

    def forward(self, real, generator=None):
        """Return the fake batch for a real batch in [-1, 1]."""
        labels = quantised_labels(real, self.levels)
        x = self.head(self.encode(real), labels)
        for block in self.blocks:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = block(x, labels)
        return torch.tanh(self.to_rgb(F.leaky_relu(x, 0.2)))


# CRN and IMLE ---------------------------------------------------------------------


class CRNGen(nn.Module):
    """Cascaded refinement network: one module per resolution, bilinear x2 between.

    Each module sees the label map (area-downscaled to its resolution) and the
    bilinearly upsampled features of the previous one; two 3x3 convs with layer
    norm and leaky ReLU. The first module also gets the area-downscaled (1/8)
    image and, for IMLE, noise channels.
    """

    upsampler = "bilinear x2 per refinement module (3 stages)"

    def __init__(self, widths=(64, 48, 32, 24), levels=3, noise_channels=0):
        super().__init__()
        self.levels = levels
        self.noise_channels = noise_channels
        n_labels = levels**3
        self.modules_ = nn.ModuleList()
        prev = 3 + noise_channels
        for width in widths:
            self.modules_.append(
                nn.Sequential(
                    nn.Conv2d(prev + n_labels, width, 3, padding=1),
                    nn.GroupNorm(1, width),
                    nn.LeakyReLU(0.2),
                    nn.Conv2d(width, width, 3, padding=1),
                    nn.GroupNorm(1, width),
                    nn.LeakyReLU(0.2),
                )
            )
            prev = width
        self.to_rgb = nn.Conv2d(prev, 3, 1)
        self.n_stages = len(widths) - 1

    def forward(self, real, generator=None, noise=None):
        """Return the fake batch for a real batch in [-1, 1]."""
        labels = quantised_labels(real, self.levels)
        factor = 2**self.n_stages
        x = _area_down(real, factor)
        if self.noise_channels:
            if noise is None:
                b, _, h, w = x.shape
                noise = _randn((b, self.noise_channels, h, w), x, generator)
            x = torch.cat([x, noise], dim=1)
        for i, module in enumerate(self.modules_):
            if i:
                x = _bilinear_up(x)
            seg = _area_down(labels, 2 ** (self.n_stages - i))
            x = module(torch.cat([x, seg], dim=1))
        return self.to_rgb(x)


class IMLEGen(CRNGen):
    """The CRN architecture with noise inputs, trained with the IMLE objective.

    Training draws several noise samples per crop and back-propagates only the
    loss of the sample closest to the target (implicit maximum likelihood).
    """

    upsampler = "bilinear x2 per refinement module (3 stages), IMLE noise"

    def __init__(self, widths=(64, 48, 32, 24), levels=3, noise_channels=4):
        super().__init__(widths, levels, noise_channels)


# SITD -----------------------------------------------------------------------------


def raw_from_rgb(real, *, ratio=8.0, shot=2e-4, read=2e-3, generator=None):
    """Return a dark, noisy, packed Bayer (RGGB) raw-like input, amplified by ratio.

    ``(B, 3, H, W)`` in [-1, 1] -> ``(B, 4, H/2, W/2)`` in [0, 1]: mosaic, pack
    the four Bayer phases as channels, darken by ``ratio``, add Poisson-Gaussian
    noise (variance ``shot * x + read**2``), multiply back by ``ratio`` and clip,
    as the input of "Learning to See in the Dark".
    """
    x = ((real + 1) / 2).clamp(0, 1)
    r, b = x[:, 0, 0::2, 0::2], x[:, 2, 1::2, 1::2]
    g1, g2 = x[:, 1, 0::2, 1::2], x[:, 1, 1::2, 0::2]
    packed = torch.stack([r, g1, g2, b], dim=1)
    dark = packed / ratio
    sigma = torch.sqrt(shot * dark + read**2)
    noisy = dark + sigma * _randn(dark.shape, dark, generator)
    return (noisy * ratio).clamp(0, 1)


class SITDGen(nn.Module):
    """SITD U-Net: packed raw at half resolution in, RGB out through PixelShuffle(2).

    Encoder: two 3x3 convs per level and max-pooling; decoder:
    ``ConvTranspose2d(k=2, s=2)`` ups with skip concatenation; a 1x1 conv to 12
    channels and depth-to-space (PixelShuffle 2) to full-resolution RGB.
    """

    upsampler = "ConvTranspose2d k2 s2 (2 stages) + PixelShuffle(2) output"

    def __init__(self, widths=(24, 48, 64)):
        super().__init__()
        c0, c1, c2 = widths

        def double(cin, cout):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1),
                nn.LeakyReLU(0.2),
                nn.Conv2d(cout, cout, 3, padding=1),
                nn.LeakyReLU(0.2),
            )

        self.enc0, self.enc1, self.enc2 = double(4, c0), double(c0, c1), double(c1, c2)
        self.up1 = nn.ConvTranspose2d(c2, c1, 2, stride=2)
        self.dec1 = double(2 * c1, c1)
        self.up0 = nn.ConvTranspose2d(c1, c0, 2, stride=2)
        self.dec0 = double(2 * c0, c0)
        self.to_raw = nn.Conv2d(c0, 12, 1)

    def forward(self, real, generator=None):
        """Return the fake batch for a real batch in [-1, 1]."""
        raw = raw_from_rgb(real, generator=generator)
        e0 = self.enc0(raw)
        e1 = self.enc1(F.max_pool2d(e0, 2))
        e2 = self.enc2(F.max_pool2d(e1, 2))
        d1 = self.dec1(torch.cat([self.up1(e2), e1], dim=1))
        d0 = self.dec0(torch.cat([self.up0(d1), e0], dim=1))
        rgb = F.pixel_shuffle(self.to_raw(d0), 2)
        return rgb * 2 - 1


# SAN ------------------------------------------------------------------------------


class _RCAB(nn.Module):
    # Residual block with channel attention.
    def __init__(self, ch, reduction=8):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, padding=1), nn.ReLU(), nn.Conv2d(ch, ch, 3, padding=1)
        )
        self.attention = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(ch, ch // reduction, 1),
            nn.ReLU(),
            nn.Conv2d(ch // reduction, ch, 1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        h = self.body(x)
        return x + h * self.attention(h)


class SANGen(nn.Module):
    """Super-resolution x4 of a bicubic-downscaled crop (SAN/RCAN-like).

    Head conv, residual blocks with channel attention and a long skip, then
    conv + PixelShuffle(2) twice and a tail conv.
    """

    upsampler = "conv + PixelShuffle(2), twice (x4 super-resolution)"

    def __init__(self, width=32, n_blocks=4):
        super().__init__()
        self.head = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(
            *[_RCAB(width) for _ in range(n_blocks)],
            nn.Conv2d(width, width, 3, padding=1),
        )
        self.up = nn.Sequential(
            nn.Conv2d(width, 4 * width, 3, padding=1),
            nn.PixelShuffle(2),
            nn.Conv2d(width, 4 * width, 3, padding=1),
            nn.PixelShuffle(2),
        )
        self.tail = nn.Conv2d(width, 3, 3, padding=1)

    def forward(self, real, generator=None):
        """Return the fake batch for a real batch in [-1, 1]."""
        low = F.interpolate(
            real, scale_factor=0.25, mode="bicubic", antialias=True, align_corners=False
        )
        x = self.head(low)
        x = x + self.body(x)
        return self.tail(self.up(x))


# Deepfake -------------------------------------------------------------------------


def ellipse_mask(h, w, *, device=None, dtype=torch.float32):
    """Return a soft elliptical mask ``(1, 1, h, w)`` in [0, 1].

    Semi-axes 0.38 w and 0.45 h around the centre; logistic edge of width about
    0.1 of the radius, 1 inside, 0 outside (the face region of a face swap).
    """
    ys = (torch.arange(h, device=device, dtype=dtype) + 0.5 - h / 2) / (0.45 * h)
    xs = (torch.arange(w, device=device, dtype=dtype) + 0.5 - w / 2) / (0.38 * w)
    r = torch.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
    return torch.sigmoid((1 - r) / 0.05)[None, None]


class DeepfakeGen(nn.Module):
    """Face-swap style autoencoder with a pixel-shuffle decoder, blended in a mask.

    Encoder of three stride-2 5x5 convs; decoder of three (conv3x3,
    PixelShuffle 2) upscale blocks and a 5x5 conv with sigmoid; the output
    replaces the crop inside a soft elliptical mask (:func:`ellipse_mask`).
    """

    upsampler = "conv + PixelShuffle(2) (3 stages), blended with a soft ellipse"

    def __init__(self, widths=(16, 32, 48), bottleneck=32):
        super().__init__()
        c0, c1, c2 = widths
        self.encode = nn.Sequential(
            nn.Conv2d(3, c0, 5, stride=2, padding=2),
            nn.LeakyReLU(0.1),
            nn.Conv2d(c0, c1, 5, stride=2, padding=2),
            nn.LeakyReLU(0.1),
            nn.Conv2d(c1, c2, 5, stride=2, padding=2),
            nn.LeakyReLU(0.1),
            nn.Conv2d(c2, bottleneck, 1),
        )
        dec = [bottleneck, c2, c1, c0]
        layers = []
        for cin, cout in zip(dec[:-1], dec[1:], strict=False):
            layers += [
                nn.Conv2d(cin, 4 * cout, 3, padding=1),
                nn.LeakyReLU(0.1),
                nn.PixelShuffle(2),
            ]
        layers += [nn.Conv2d(c0, 3, 5, padding=2), nn.Sigmoid()]
        self.decode = nn.Sequential(*layers)

    def forward(self, real, generator=None):
        """Return the fake batch for a real batch in [-1, 1]."""
        face = self.decode(self.encode(real)) * 2 - 1
        mask = ellipse_mask(*real.shape[2:], device=real.device, dtype=real.dtype)
        return mask * face + (1 - mask) * real


NETWORKS = {
    "progan": ProGANGen,
    "stylegan": StyleGANGen,
    "stylegan2": StyleGAN2Gen,
    "biggan": BigGANGen,
    "cyclegan": CycleGANGen,
    "stargan": StarGANGen,
    "gaugan": GauGANGen,
    "crn": CRNGen,
    "imle": IMLEGen,
    "sitd": SITDGen,
    "san": SANGen,
    "deepfake": DeepfakeGen,
}
