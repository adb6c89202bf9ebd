"""A small raster canvas and PNG writer, standard library only (zlib and struct).

Enough for charts: pixels, lines, dashed lines, filled dots and a 3x5
pixel font for digits and date punctuation.
"""

from __future__ import annotations

import struct
import zlib
from typing import Final

__all__ = ["Canvas", "Colour", "encode_png"]

Colour = tuple[int, int, int]

_FONT: Final[dict[str, tuple[str, ...]]] = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
    "-": ("000", "000", "111", "000", "000"),
    ".": ("000", "000", "000", "000", "010"),
    ":": ("000", "010", "000", "010", "000"),
    "+": ("000", "010", "111", "010", "000"),
    " ": ("000", "000", "000", "000", "000"),
}


class Canvas:
    """An RGB image in memory; coordinates start at the top left."""

    def __init__(self, width: int, height: int, background: Colour = (255, 255, 255)) -> None:
        if width < 1 or height < 1:
            raise ValueError(f"a canvas needs a positive size; got {width}x{height}")
        self.width = width
        self.height = height
        self._pixels = bytearray(bytes(background) * (width * height))

    def pixel(self, x: int, y: int) -> Colour:
        """The colour at (x, y)."""
        offset = (y * self.width + x) * 3
        red, green, blue = self._pixels[offset : offset + 3]
        return (red, green, blue)

    def set(self, x: int, y: int, colour: Colour) -> None:
        """Colour one pixel; points outside the canvas are ignored."""
        if 0 <= x < self.width and 0 <= y < self.height:
            offset = (y * self.width + x) * 3
            self._pixels[offset : offset + 3] = bytes(colour)

    def line(
        self, start: tuple[int, int], end: tuple[int, int], colour: Colour, *, dash: int = 0
    ) -> None:
        """Draw a straight line (Bresenham); ``dash`` > 0 draws that many pixels on, then off."""
        x0, y0 = start
        x1, y1 = end
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        step_x = 1 if x0 < x1 else -1
        step_y = 1 if y0 < y1 else -1
        error = dx + dy
        count = 0
        while True:
            if not dash or (count // dash) % 2 == 0:
                self.set(x0, y0, colour)
            count += 1
            if x0 == x1 and y0 == y1:
                return
            double = 2 * error
            if double >= dy:
                error += dy
                x0 += step_x
            if double <= dx:
                error += dx
                y0 += step_y

    def dot(self, centre: tuple[int, int], radius: int, colour: Colour) -> None:
        """Draw a filled disc."""
        cx, cy = centre
        for y in range(cy - radius, cy + radius + 1):
            for x in range(cx - radius, cx + radius + 1):
                if (x - cx) ** 2 + (y - cy) ** 2 <= radius * radius:
                    self.set(x, y, colour)

    def text(self, origin: tuple[int, int], label: str, colour: Colour, *, scale: int = 2) -> None:
        """Write digits and ``- . : +`` in a 3x5 pixel font; other characters leave a gap."""
        x, y = origin
        for character in label:
            glyph = _FONT.get(character, _FONT[" "])
            for row, bits in enumerate(glyph):
                for column, bit in enumerate(bits):
                    if bit == "1":
                        for sy in range(scale):
                            for sx in range(scale):
                                self.set(x + column * scale + sx, y + row * scale + sy, colour)
            x += 4 * scale

    @staticmethod
    def text_width(label: str, *, scale: int = 2) -> int:
        """The width in pixels of ``label`` written by :meth:`text`."""
        return max(len(label) * 4 * scale - scale, 0)

    def rows(self) -> list[bytes]:
        """The image's rows of RGB bytes, top first."""
        stride = self.width * 3
        return [bytes(self._pixels[y * stride : (y + 1) * stride]) for y in range(self.height)]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_png(canvas: Canvas) -> bytes:
    """Encode a canvas as an 8-bit RGB PNG (no filtering, zlib-compressed)."""
    header = struct.pack(">IIBBBBB", canvas.width, canvas.height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in canvas.rows())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )
