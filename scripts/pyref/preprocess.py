"""Reference decode + preprocess, mirroring src/infer/image_decoder.cpp and preprocessor.cpp.

Semantics (the contract both sides follow):
- Decode to float in [0, 1]: 8-bit / 255, 16-bit / 65535.
- An alpha channel is composited onto white (CAD crops with transparency are on white paper).
- colour "gray": a single-channel source is used as is; colour sources use torchvision's
  rgb_to_grayscale weights. colour "rgb": a single-channel source is replicated to 3 channels.
- resize "stretch": Resize((H, W)); "letterbox": scale = min(H/h, W/w), new size =
  max(1, round(side * scale)) (round half to even, as Python), then Pad centred (left/top get the
  floor half) with `fill`; "shorter-side+center-crop": Resize(S) (S = shorter_side, default
  max(H, W)) then CenterCrop((H, W)). All resizes are bilinear with antialias=True.
- Normalize(mean, std).
"""
import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

GRAY_WEIGHTS = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale


def load_float(path):
    """Decode a file to a float CHW tensor in [0, 1] with 1 or 3 channels, alpha removed."""
    img = Image.open(path)
    img.load()
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float32) / 65535.0
        return torch.from_numpy(arr)[None]
    if mode == "L":
        return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0)[None]
    if mode == "LA":
        arr = np.asarray(img, dtype=np.float32) / 255.0
        g, a = arr[..., 0], arr[..., 1]
        return torch.from_numpy(g * a + (1.0 - a))[None]
    if mode == "RGBA":
        arr = np.asarray(img, dtype=np.float32) / 255.0
        rgb, a = arr[..., :3], arr[..., 3:4]
        return torch.from_numpy(rgb * a + (1.0 - a)).permute(2, 0, 1).contiguous()
    if mode != "RGB":
        img = img.convert("RGB")
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous()


def to_colour(x, colour):
    if colour == "gray":
        if x.shape[0] == 1:
            return x
        r, g, b = x[0], x[1], x[2]
        w = GRAY_WEIGHTS
        return (w[0] * r + w[1] * g + w[2] * b)[None]
    if x.shape[0] == 1:
        return x.expand(3, -1, -1).contiguous()
    return x


def py_round(v):
    return int(round(v))  # Python rounds half to even; the C++ side uses std::nearbyint


def resize(x, height, width, mode, shorter_side=0, fill=1.0):
    h, w = x.shape[-2], x.shape[-1]
    if mode == "stretch":
        return T.Resize((height, width), antialias=True)(x)
    if mode == "letterbox":
        scale = min(height / h, width / w)
        nh, nw = max(1, py_round(h * scale)), max(1, py_round(w * scale))
        nh, nw = min(nh, height), min(nw, width)
        x = T.Resize((nh, nw), antialias=True)(x)
        left, top = (width - nw) // 2, (height - nh) // 2
        return F.pad(x, [left, top, width - nw - left, height - nh - top], fill=fill)
    if mode == "shorter-side+center-crop":
        s = shorter_side or max(height, width)
        x = T.Resize(s, antialias=True)(x)
        return T.CenterCrop((height, width))(x)
    raise ValueError(f"unknown resize mode {mode}")


def preprocess(path, height=64, width=64, mode="letterbox", colour="gray", mean=(0.5,), std=(0.5,),
               shorter_side=0, fill=1.0):
    """File -> normalized float CHW tensor, exactly as inferwatch feeds the model."""
    x = to_colour(load_float(path), colour)
    x = resize(x, height, width, mode, shorter_side, fill)
    return T.Normalize(list(mean), list(std))(x)


def preprocess_pil(img, **kw):
    """Same as preprocess() for an in-memory PIL image (training data never touches disk)."""
    import io
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    return preprocess(buf, **kw)
