"""First-layer weights as a grid of small images, encoded as PNG by hand (zlib + struct):
no imaging library, and nothing but these bytes can end up in the file."""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np

_PAD = 1  # pixels of white between tiles, as cs231n's visualize_grid leaves


def encode_png(pixels: np.ndarray) -> bytes:
    """An 8-bit PNG of a (rows, cols) greyscale or (rows, cols, 3) RGB uint8 array."""
    rows, cols = pixels.shape[:2]
    colour_type = 2 if pixels.ndim == 3 else 0
    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(rows))  # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", cols, rows, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def tile_shape(dim: int) -> tuple[int, bool] | None:
    """(side, colour) when `dim` inputs form a square image: side*side grey or side*side*3 RGB."""
    side = math.isqrt(dim)
    if side * side == dim and side > 1:
        return side, False
    side = math.isqrt(dim // 3)
    if dim % 3 == 0 and side * side * 3 == dim and side > 1:
        return side, True
    return None


def tile_grid(w: np.ndarray, max_tiles: int, notes: list[str]) -> tuple[bytes | None, int, int, bool]:
    """(png, tiles shown, tile side, colour) for W1 of shape (D, H); png None with a note when
    the weights cannot be drawn as images. Each tile is scaled to its own min..max."""
    if w.ndim != 2 or not w.size:
        notes.append(f"the weights have shape {w.shape}, not (inputs, hidden units)")
        return None, 0, 0, False
    shape = tile_shape(w.shape[0])
    if shape is None and tile_shape(w.shape[1]) is not None:
        w, shape = w.T, tile_shape(w.shape[1])  # stored (hidden, inputs): the other layout
    if shape is None:
        notes.append(f"the weights have shape {w.shape}; neither side is a square image's number of pixels")
        return None, 0, 0, False
    side, colour = shape
    if w.shape[1] > max_tiles:
        notes.append(f"the first {max_tiles} of {w.shape[1]} hidden units are shown")
        w = w[:, :max_tiles]
    bad = int((~np.isfinite(w)).sum())
    if bad:
        notes.append(f"{bad} weights are NaN or infinite; they are drawn black")
    tiles = [_tile(w[:, k], side, colour) for k in range(w.shape[1])]
    return encode_png(_grid(tiles, side, colour)), len(tiles), side, colour


def _tile(column: np.ndarray, side: int, colour: bool) -> np.ndarray:
    finite = np.isfinite(column)
    values = np.where(finite, column, 0.0)
    lo, hi = (float(values[finite].min()), float(values[finite].max())) if finite.any() else (0.0, 0.0)
    scaled = (values - lo) / (hi - lo) * 255.0 if hi > lo else np.full_like(values, 128.0)
    scaled[~finite] = 0.0
    pixels = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return pixels.reshape(side, side, 3) if colour else pixels.reshape(side, side)


def _grid(tiles: list[np.ndarray], side: int, colour: bool) -> np.ndarray:
    per_row = math.ceil(math.sqrt(len(tiles)))
    n_rows = math.ceil(len(tiles) / per_row)
    cell = side + _PAD
    shape = (n_rows * cell - _PAD, per_row * cell - _PAD) + ((3,) if colour else ())
    grid = np.full(shape, 255, dtype=np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, per_row)
        grid[r * cell : r * cell + side, c * cell : c * cell + side] = tile
    return grid
