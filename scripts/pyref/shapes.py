"""Procedural CAD-like crops for the built-in demo model "demo-shapes".

    from pyref.shapes import LABELS, render
    img = render("hexagon", random.Random("my-seed:17"))   # PIL image, mode "L" or "RGB"

Each crop looks like a piece cut out of an engineering drawing: dark ink lines on white or
off-white paper, one main object of the requested class, sometimes short unrelated line fragments,
speckles, noise, blur or JPEG artefacts. Everything that varies is drawn from the `random.Random`
passed in, so the same seed gives the same picture (no global state is used).

Classes (in label order, the order of the model's outputs):
- circle          a circle (never stretched), sometimes with centre lines or a concentric circle
- rectangle       a rectangle outline, upright or moderately rotated, sometimes a double border
- triangle        a triangle outline (general or right-angled), any rotation
- hexagon         a regular hexagon, any rotation, sometimes with an inner circle (a nut)
- arrow           one shaft with one arrowhead (filled or open); the shaft is sometimes kinked
- dimension_line  a dimension: line with arrowheads at both ends, two extension lines and a number
- hatched_area    a closed outline filled with parallel (sometimes crossed) diagonal hatch lines
- text_block      several lines of upper-case letters and digits, sometimes framed
"""
import io
import math

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

LABELS = ("circle", "rectangle", "triangle", "hexagon", "arrow", "dimension_line", "hatched_area",
          "text_block")

MIN_SIDE, MAX_SIDE = 48, 400
MIN_ASPECT, MAX_ASPECT = 0.4, 2.5
MIN_SHARE = 0.3

_FONT = None
_TEXT_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _font():
    global _FONT
    if _FONT is None:
        _FONT = ImageFont.load_default()
    return _FONT


# ---------------------------------------------------------------------------------------------
# Geometry: an object is a list of primitives in local coordinates; _place() rotates, scales
# (uniformly, so circles stay circles) and translates it into the crop.
#   ("line", [p0, p1, ...])                 open polyline
#   ("poly", [p0, p1, ...])                 closed outline
#   ("fill", [p0, p1, ...])                 filled polygon (arrowheads)
#   ("circle", (cx, cy), r)                 circle outline
#   ("hatch", [p0, ...], spacing, angles)   hatch lines clipped to a polygon (spacing in px)
#   ("text", (cx, cy), height, angle, str)  text centred on a point (angle relative to the object)
# ---------------------------------------------------------------------------------------------

def _rot(p, a):
    c, s = math.cos(a), math.sin(a)
    return (p[0] * c - p[1] * s, p[0] * s + p[1] * c)


def _text_size(text, height):
    # load_default(): 6 px advance, 11 px line height
    return len(text) * 6.0 * height / 11.0, height


def _text_corners(center, height, angle, text):
    w, h = _text_size(text, height)
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return [(center[0] + q[0], center[1] + q[1]) for q in (_rot(c, angle) for c in corners)]


def _points(prim):
    kind = prim[0]
    if kind in ("line", "poly", "fill", "hatch"):
        return list(prim[1])
    if kind == "circle":
        (cx, cy), r = prim[1], prim[2]
        return [(cx - r, cy - r), (cx + r, cy + r)]
    if kind == "text":
        return _text_corners(prim[1], prim[2], prim[3], prim[4])
    raise ValueError(kind)


def _transform(prim, a, s, t):
    def tp(p):
        q = _rot(p, a)
        return (q[0] * s + t[0], q[1] * s + t[1])
    kind = prim[0]
    if kind in ("line", "poly", "fill"):
        return (kind, [tp(p) for p in prim[1]])
    if kind == "hatch":
        return (kind, [tp(p) for p in prim[1]], prim[2], prim[3])
    if kind == "circle":
        return (kind, tp(prim[1]), prim[2] * s)
    if kind == "text":
        return (kind, tp(prim[1]), prim[2] * s, prim[3] + a, prim[4])
    raise ValueError(kind)


def _place(prims, rng, size, angle, fill_range=(0.45, 0.92), margin=2.0):
    """Rotate by `angle`, scale so the object's box takes a random share of the crop, translate."""
    W, H = size
    rotated = [_transform(p, angle, 1.0, (0.0, 0.0)) for p in prims]
    pts = [q for p in rotated for q in _points(p)]
    xs, ys = [q[0] for q in pts], [q[1] for q in pts]
    bw, bh = max(max(xs) - min(xs), 1e-6), max(max(ys) - min(ys), 1e-6)
    s_max = min((W - 2 * margin) / bw, (H - 2 * margin) / bh)
    # a crop is cut around its object: the object spans at least MIN_SHARE of the crop's longer side
    # (else, letterboxed to 64 px, a small object in a long crop shrinks to a few pixels)
    f_lo = min(max(fill_range[0], MIN_SHARE * max(W, H) / max(bw, bh) / s_max), fill_range[1])
    f = rng.uniform(f_lo, fill_range[1])
    s = f * s_max
    tx_lo, tx_hi = margin - min(xs) * s, W - margin - max(xs) * s
    ty_lo, ty_hi = margin - min(ys) * s, H - margin - max(ys) * s
    t = (rng.uniform(tx_lo, max(tx_lo, tx_hi)), rng.uniform(ty_lo, max(ty_lo, ty_hi)))
    return [_transform(p, 0.0, s, t) for p in rotated], s, (bw * s, bh * s)


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------

class _Pen:
    def __init__(self, img, ss, ink):
        self.img, self.ss, self.ink = img, ss, ink
        self.draw = ImageDraw.Draw(img)

    def _xy(self, pts):
        return [(p[0] * self.ss, p[1] * self.ss) for p in pts]

    def line(self, pts, width):
        self.draw.line(self._xy(pts), fill=self.ink, width=max(1, round(width * self.ss)), joint="curve")

    def poly(self, pts, width):
        self.line(list(pts) + [pts[0], pts[1 % len(pts)]], width)

    def fill(self, pts):
        self.draw.polygon(self._xy(pts), fill=self.ink, outline=self.ink)

    def circle(self, c, r, width):
        x, y, r = c[0] * self.ss, c[1] * self.ss, r * self.ss
        self.draw.ellipse([x - r, y - r, x + r, y + r], outline=self.ink,
                          width=max(1, round(width * self.ss)))

    def hatch(self, pts, spacing, angles, width):
        W, H = self.img.size
        region = Image.new("L", (W, H), 0)
        ImageDraw.Draw(region).polygon(self._xy(pts), fill=255)
        lines = Image.new("L", (W, H), 0)
        d = ImageDraw.Draw(lines)
        xs = [p[0] * self.ss for p in pts]
        ys = [p[1] * self.ss for p in pts]
        cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        reach = math.hypot(max(xs) - min(xs), max(ys) - min(ys)) / 2 + 2
        step = spacing * self.ss
        for ang in angles:
            ux, uy = math.cos(ang), math.sin(ang)      # along the hatch lines
            nx, ny = -uy, ux                            # across them
            k = -math.floor(reach / step)
            while k * step <= reach:
                ox, oy = cx + nx * k * step, cy + ny * k * step
                d.line([(ox - ux * reach, oy - uy * reach), (ox + ux * reach, oy + uy * reach)], fill=255,
                       width=max(1, round(width * self.ss)))
                k += 1
        mask = ImageChops.multiply(lines, region)
        self.img.paste(self.ink, (0, 0), mask)

    def text(self, c, height, angle, text, bold=False, smooth=True):
        font = _font()
        left, top, right, bottom = font.getbbox(text)
        small = Image.new("L", (max(1, right) + 2, 13), 0)
        ImageDraw.Draw(small).text((1, 1), text, fill=255, font=font)
        k = max(height * self.ss / 11.0, 0.5)
        big = small.resize((max(1, round(small.width * k)), max(1, round(small.height * k))),
                           Image.BILINEAR if smooth else Image.NEAREST)
        if bold:
            big = big.filter(ImageFilter.MaxFilter(3))
        if abs(angle) > 1e-3:
            big = big.rotate(-math.degrees(angle), resample=Image.BILINEAR, expand=True)
        x = round(c[0] * self.ss - big.width / 2)
        y = round(c[1] * self.ss - big.height / 2)
        self.img.paste(self.ink, (x, y), big)

    def render(self, prims, width, hatch_width=1, bold=False, smooth=True):
        for p in prims:
            kind = p[0]
            if kind == "line":
                self.line(p[1], width)
            elif kind == "poly":
                self.poly(p[1], width)
            elif kind == "fill":
                self.fill(p[1])
            elif kind == "circle":
                self.circle(p[1], p[2], width)
            elif kind == "hatch":
                self.hatch(p[1], p[2], p[3], hatch_width)
            elif kind == "text":
                self.text(p[1], p[2], p[3], p[4], bold=bold, smooth=smooth)


# ---------------------------------------------------------------------------------------------
# The classes, in local coordinates (roughly unit size; _place() scales them)
# ---------------------------------------------------------------------------------------------

def _arrowhead(tip, direction, length, half_angle, filled):
    """Arrowhead at `tip`, pointing along `direction` (radians)."""
    back = direction + math.pi
    a = (tip[0] + length * math.cos(back + half_angle), tip[1] + length * math.sin(back + half_angle))
    b = (tip[0] + length * math.cos(back - half_angle), tip[1] + length * math.sin(back - half_angle))
    if filled:
        return [("fill", [tip, a, b])]
    return [("line", [a, tip, b])]


def _number(rng):
    v = rng.choice([rng.randint(1, 999), round(rng.uniform(0.5, 250.0), rng.choice([1, 2]))])
    s = str(v)
    r = rng.random()
    if r < 0.12:
        s = "R" + s
    elif r < 0.2:
        s = "M" + s
    if rng.random() < 0.12:
        s += rng.choice(["+0.1", "-0.05", "H7", "+/-0.2"])
    return s


def _circle(rng, aspect):
    prims = [("circle", (0.0, 0.0), 1.0)]
    if rng.random() < 0.3:          # centre lines, sticking out a little
        e = rng.uniform(1.05, 1.3)
        prims += [("line", [(-e, 0.0), (e, 0.0)]), ("line", [(0.0, -e), (0.0, e)])]
    if rng.random() < 0.2:          # concentric circle (a hole, a boss)
        prims.append(("circle", (0.0, 0.0), rng.uniform(0.35, 0.75)))
    return prims, rng.uniform(0, 2 * math.pi), {}


def _rectangle(rng, aspect):
    if rng.random() < 0.5:          # crops tend to be cut around the object
        ar = aspect * math.exp(rng.uniform(-0.35, 0.35))
    else:
        ar = math.exp(rng.uniform(math.log(0.35), math.log(2.8)))
    w, h = math.sqrt(ar), 1.0 / math.sqrt(ar)
    box = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    prims = [("poly", box)]
    if rng.random() < 0.15:         # double border
        d = rng.uniform(0.06, 0.15) * min(w, h)
        prims.append(("poly", [(-w / 2 + d, -h / 2 + d), (w / 2 - d, -h / 2 + d), (w / 2 - d, h / 2 - d),
                               (-w / 2 + d, h / 2 - d)]))
    angle = 0.0 if rng.random() < 0.55 else math.radians(rng.uniform(-20, 20))
    return prims, angle, {"fit_aspect": True}


def _triangle(rng, aspect):
    if rng.random() < 0.3:          # right-angled
        a, b = 1.0, math.exp(rng.uniform(math.log(0.45), math.log(2.2)))
        pts = [(0.0, 0.0), (a, 0.0), (0.0, -b)]
    else:
        while True:
            gaps = [rng.uniform(70, 170), rng.uniform(70, 170)]
            gaps.append(360 - sum(gaps))
            if 70 <= gaps[2] <= 170:
                break
        a0 = rng.uniform(0, 360)
        angs = [a0, a0 + gaps[0], a0 + gaps[0] + gaps[1]]
        pts = [(math.cos(math.radians(t)), math.sin(math.radians(t))) for t in angs]
        sx = rng.uniform(0.75, 1.3)  # a little anisotropy: not only isosceles-ish triangles
        stretched = [(p[0] * sx, p[1]) for p in pts]
        if _min_angle(stretched) >= math.radians(24):   # no slivers
            pts = stretched
    return [("poly", pts)], rng.uniform(0, 2 * math.pi), {}


def _min_angle(pts):
    n, worst = len(pts), math.pi
    for i in range(n):
        a, b, c = pts[i - 1], pts[i], pts[(i + 1) % n]
        u, v = (a[0] - b[0], a[1] - b[1]), (c[0] - b[0], c[1] - b[1])
        cos = (u[0] * v[0] + u[1] * v[1]) / (math.hypot(*u) * math.hypot(*v))
        worst = min(worst, math.acos(max(-1.0, min(1.0, cos))))
    return worst


def _hexagon(rng, aspect):
    pts = [(math.cos(math.radians(60 * k)), math.sin(math.radians(60 * k))) for k in range(6)]
    prims = [("poly", pts)]
    if rng.random() < 0.25:         # a nut: inner circle
        prims.append(("circle", (0.0, 0.0), rng.uniform(0.45, 0.8) * math.sqrt(3) / 2))
    return prims, rng.uniform(0, math.pi / 3), {}


def _arrow(rng, aspect):
    L = 1.0
    head = L * rng.uniform(0.12, 0.3)
    half = math.radians(rng.uniform(14, 30))
    filled = rng.random() < 0.6
    if rng.random() < 0.2:          # a leader with a kink
        kx = rng.uniform(-0.45, -0.15)
        ky = rng.uniform(0.15, 0.45) * rng.choice([-1, 1])
        shaft = [(-L / 2 + kx, ky), (-L / 2 + 0.25, 0.0), (L / 2, 0.0)]
    else:
        shaft = [(-L / 2, 0.0), (L / 2, 0.0)]
    prims = [("line", shaft)] + _arrowhead((L / 2, 0.0), 0.0, head, half, filled)
    if rng.random() < 0.4:
        angle = math.radians(rng.choice([0, 90, 180, 270]) + rng.uniform(-4, 4))
    else:
        angle = rng.uniform(0, 2 * math.pi)
    return prims, angle, {}


def _dimension_line(rng, aspect):
    L = 1.0
    head = rng.uniform(0.06, 0.14)
    half = math.radians(rng.uniform(12, 25))
    filled = rng.random() < 0.65
    gap = rng.uniform(0.03, 0.12)                  # between the extension lines and the object
    below = rng.uniform(0.15, 0.6)                 # extension lines reach down to the object
    beyond = rng.uniform(0.03, 0.1)                # ... and a little past the dimension line
    prims = [("line", [(x, below + gap), (x, -beyond)]) for x in (-L / 2, L / 2)]
    if rng.random() < 0.15:                         # arrows outside, pointing in
        out = head * rng.uniform(1.5, 2.5)
        prims.append(("line", [(-L / 2 - out, 0.0), (L / 2 + out, 0.0)]))
        prims += _arrowhead((-L / 2, 0.0), 0.0, head, half, filled)
        prims += _arrowhead((L / 2, 0.0), math.pi, head, half, filled)
    else:
        prims.append(("line", [(-L / 2, 0.0), (L / 2, 0.0)]))
        prims += _arrowhead((-L / 2, 0.0), math.pi, head, half, filled)
        prims += _arrowhead((L / 2, 0.0), 0.0, head, half, filled)
    text = _number(rng)
    th = rng.uniform(0.09, 0.2)
    tw, _ = _text_size(text, th)
    if tw > 0.8 * L:
        th *= 0.8 * L / tw
    tx = rng.uniform(-0.15, 0.15) * L
    prims.append(("text", (tx, -th * rng.uniform(0.7, 1.1)), th, 0.0, text))
    r = rng.random()
    if r < 0.55:
        angle = 0.0
    elif r < 0.85:
        angle = -math.pi / 2            # vertical, text reading bottom-up
    else:
        angle = rng.uniform(-math.pi / 2, math.pi / 2)
    if rng.random() < 0.5:                          # object below or above the dimension
        prims = [_flip_y(p) for p in prims]
    return prims, angle, {"fit_aspect": True}


def _flip_y(prim):
    kind = prim[0]
    if kind in ("line", "poly", "fill"):
        return (kind, [(x, -y) for x, y in prim[1]])
    if kind == "text":
        (x, y), h = prim[1], prim[2]
        return (kind, (x, -y), h, prim[3], prim[4])
    return prim


def _hatch_outline(rng, aspect):
    r = rng.random()
    if r < 0.35:
        if rng.random() < 0.5:
            ar = aspect * math.exp(rng.uniform(-0.35, 0.35))
        else:
            ar = math.exp(rng.uniform(math.log(0.4), math.log(2.5)))
        w, h = math.sqrt(ar), 1.0 / math.sqrt(ar)
        return [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)], "poly"
    if r < 0.55:                                    # L-shape / notched block
        w, h = rng.uniform(0.8, 1.2), rng.uniform(0.8, 1.2)
        cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
        pts = [(0, 0), (w, 0), (w, cy), (cx, cy), (cx, h), (0, h)]
        return [(x - w / 2, y - h / 2) for x, y in pts], "poly"
    if r < 0.75:                                    # circle / ring section
        n = 48
        return [(math.cos(2 * math.pi * k / n), math.sin(2 * math.pi * k / n)) for k in range(n)], "circle"
    n = rng.randint(4, 7)                           # irregular polygon, roughly round (no slivers)
    while True:
        angs = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
        gaps = [(angs[(i + 1) % n] - angs[i]) % (2 * math.pi) for i in range(n)]
        if min(gaps) >= 0.5 * 2 * math.pi / n and max(gaps) <= 0.8 * math.pi:
            break
    pts = [(rng.uniform(0.65, 1.0) * math.cos(t), rng.uniform(0.65, 1.0) * math.sin(t)) for t in angs]
    return pts, "poly"


def _hatched_area(rng, aspect):
    pts, kind = _hatch_outline(rng, aspect)
    base = rng.choice([45, 45, 45, 135, 135, 30, 60, 120, 150])
    angles = [math.radians(base)]
    if rng.random() < 0.15:
        angles.append(math.radians(base + 90))
    prims = [("hatch", pts, None, angles)]
    prims.append(("circle", (0.0, 0.0), 1.0) if kind == "circle" else ("poly", pts))
    angle = 0.0 if kind != "poly" or rng.random() < 0.6 else math.radians(rng.uniform(-25, 25))
    return prims, angle, {"fit_aspect": kind == "poly"}


def _text_block(rng, aspect):
    r = rng.random()
    angle = 0.0 if r < 0.8 else (-math.pi / 2 if r < 0.9 else math.radians(rng.uniform(-4, 4)))
    if abs(angle) > 1.0:
        aspect = 1.0 / aspect
    n = rng.randint(2, 6)
    th = 1.0
    lead = th * rng.uniform(1.3, 1.9)
    centred = rng.random() < 0.25
    # block aspect ~ chars * (6/11) / (lines * lead): pick the line length so the block roughly
    # fills the crop (a text crop is cut around the text)
    chars = aspect * n * lead * 11 / 6 * math.exp(rng.uniform(-0.4, 0.3))
    chars = max(3, min(24, round(chars)))
    lines = []
    for _ in range(n):
        target = max(2, round(chars * rng.uniform(0.45, 1.0)))
        s = ""
        while len(s) < target:
            s += ("" if not s else " ") + "".join(rng.choice(_TEXT_CHARS) for _ in range(rng.randint(1, 7)))
        lines.append(s[:target].rstrip())
    widths = [_text_size(s, th)[0] for s in lines]
    maxw = max(widths)
    prims = []
    for i, (s, w) in enumerate(zip(lines, widths)):
        x = 0.0 if centred else (w - maxw) / 2
        prims.append(("text", (x, (i - (n - 1) / 2) * lead), th, 0.0, s))
    if rng.random() < 0.15:                          # framed (a note box / title block cell)
        px, py = th * rng.uniform(0.5, 1.2), th * rng.uniform(0.4, 1.0)
        hw, hh = maxw / 2 + px, (n - 1) * lead / 2 + th / 2 + py
        prims.append(("poly", [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]))
    return prims, angle, {"text": True}


_MAKERS = {"circle": _circle, "rectangle": _rectangle, "triangle": _triangle, "hexagon": _hexagon,
           "arrow": _arrow, "dimension_line": _dimension_line, "hatched_area": _hatched_area,
           "text_block": _text_block}


# ---------------------------------------------------------------------------------------------
# Crop
# ---------------------------------------------------------------------------------------------

def _stray_lines(rng, pen, size, ink_width):
    W, H = size
    m = min(W, H)
    for _ in range(rng.choice([1, 1, 2])):
        L = m * rng.uniform(0.06, 0.18)
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        a = rng.uniform(0, 2 * math.pi)
        pen.line([(x, y), (x + L * math.cos(a), y + L * math.sin(a))], rng.choice([1, 1, ink_width]))


def _edge_line(rng, pen, size, width):
    """A line of the surrounding drawing cut by the crop, running along one edge."""
    W, H = size
    d = rng.uniform(1, 4)         # < the 9 px margin render() keeps around the object
    side = rng.randrange(4)
    if side == 0:
        pts = [(0, d), (W, d)]
    elif side == 1:
        pts = [(0, H - d), (W, H - d)]
    elif side == 2:
        pts = [(d, 0), (d, H)]
    else:
        pts = [(W - d, 0), (W - d, H)]
    pen.line(pts, width)


def crop_size(rng, min_side=MIN_SIDE, max_side=MAX_SIDE):
    """A random (width, height): each side log-uniform in [min_side, max_side], aspect 0.4..2.5."""
    lo, hi = math.log(min_side), math.log(max_side)
    while True:
        w = round(math.exp(rng.uniform(lo, hi)))
        h = round(math.exp(rng.uniform(lo, hi)))
        if MIN_ASPECT <= w / h <= MAX_ASPECT:
            return w, h


def render(label, rng, size=None):
    """A random crop of class `label`, drawn with `rng` (a random.Random). Returns a PIL image,
    mode "L" or "RGB". `size` = (width, height) fixes the crop size (default: crop_size(rng))."""
    if label not in _MAKERS:
        raise ValueError(f"unknown label {label!r}; expected one of {', '.join(LABELS)}")
    W, H = size if size is not None else crop_size(rng)
    paper = rng.randint(222, 255)
    ink = rng.randint(0, 95)
    ss = 2 if rng.random() < 0.5 else 1
    img = Image.new("L", (W * ss, H * ss), paper)
    pen = _Pen(img, ss, ink)

    prims, angle, opts = _MAKERS[label](rng, W / H)
    fill_range = (0.5, 0.92) if opts.get("text") else (0.42, 0.92)
    # a line of the surrounding drawing along one edge of the crop: keep the object clear of it, so
    # that it never merges with the object's own outline (which would change what the object is)
    edge_line = rng.random() < 0.12
    margin = 9.0 if edge_line else 2.0
    placed, scale, (bw, bh) = _place(prims, rng, (W, H), angle, fill_range, margin=margin)
    obj = min(bw, bh) if not opts.get("fit_aspect") else max(bw, bh)

    width = rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5])
    width = min(width, max(1, round(max(bw, bh) / 14)))
    hatch_width = rng.choice([1, 1, 1, 2]) if width > 1 else 1
    for i, p in enumerate(placed):
        if p[0] == "hatch":
            spacing = max(3.0 + hatch_width, rng.uniform(0.05, 0.14) * obj)
            placed[i] = ("hatch", p[1], spacing, p[3])
    pen.render(placed, width, hatch_width=hatch_width, bold=rng.random() < 0.15 and width > 1,
               smooth=rng.random() < 0.8)

    if rng.random() < 0.3:
        _stray_lines(rng, pen, (W, H), width)
    if edge_line:
        _edge_line(rng, pen, (W, H), rng.choice([1, width]))

    if ss != 1:
        img = img.resize((W, H), Image.BOX)

    # paper texture, speckles, noise
    np_rng = np.random.default_rng(rng.getrandbits(64))
    arr = np.asarray(img, dtype=np.float32)
    if rng.random() < 0.5:
        arr = arr + np_rng.normal(0.0, rng.uniform(1.0, 7.0), arr.shape)
    if rng.random() < 0.4:
        n = int(W * H * rng.uniform(0.0005, 0.004))
        ys, xs = np_rng.integers(0, H, n), np_rng.integers(0, W, n)
        arr[ys, xs] = np_rng.uniform(ink, paper, n)
    img = Image.fromarray(np.clip(arr, 0, 255).round().astype(np.uint8), "L")

    colour = rng.random() < 0.3
    if colour:                                      # tinted paper, blue-black or sepia ink
        tint_p = (rng.randint(-8, 4), rng.randint(-6, 4), rng.randint(-14, 6))
        tint_i = rng.choice([(0, 0, 0), (-10, 0, 40), (20, 10, 0)])
        lut = []
        for c in range(3):
            for v in range(256):
                t = v / 255.0
                lut.append(max(0, min(255, round(v + t * tint_p[c] + (1 - t) * tint_i[c]))))
        img = img.convert("RGB").point(lut)

    if rng.random() < 0.25:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    if rng.random() < 0.2:
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=rng.randint(25, 80))
        buf.seek(0)
        img = Image.open(buf)
        img.load()
    return img
