#!/usr/bin/env python3
# Draws frontend/icons/icon-{192,512}.png (run from frontend/icons/).
# Draws Berth's icon: three stacked containers on a harbour-blue tile.
import zlib, struct, sys
def shapes(n):
    s = n / 512
    r = lambda x, y, w, h: (x*s, y*s, w*s, h*s)
    return [
        ((0x1f, 0x4e, 0x79), r(0, 0, 512, 512), 96*s),       # tile
        ((0xf2, 0xa6, 0x3b), r(96, 280, 150, 110), 14*s),    # bottom left
        ((0xe4, 0xe9, 0xee), r(266, 280, 150, 110), 14*s),   # bottom right
        ((0x5f, 0xb3, 0xa1), r(181, 150, 150, 110), 14*s),   # top
        ((0xe4, 0xe9, 0xee), r(72, 404, 368, 22), 11*s),     # quay
    ]
def inside(px, py, x, y, w, h, rad):
    if not (x <= px < x + w and y <= py < y + h): return False
    cx = min(max(px, x + rad), x + w - rad); cy = min(max(py, y + rad), y + h - rad)
    return (px - cx) ** 2 + (py - cy) ** 2 <= rad * rad
def png(n, path):
    rows = bytearray()
    sh = shapes(n)
    for j in range(n):
        rows.append(0)
        for i in range(n):
            c = (0, 0, 0, 0)
            for col, (x, y, w, h), rad in sh:
                if inside(i + .5, j + .5, x, y, w, h, rad): c = col + (255,)
            rows.extend(c)
    def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', n, n, 8, 6, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(bytes(rows), 9)) + chunk(b'IEND', b'')
    open(path, 'wb').write(data)
for n in (192, 512): png(n, f'icon-{n}.png')
