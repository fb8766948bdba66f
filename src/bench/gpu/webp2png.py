"""WebP (lossless) -> PNG for the training loader: src/{ir,vi}/*.webp -> dst/{ir,vi}/*.png."""
import os, sys
from multiprocessing import Pool
from PIL import Image

src, dst = sys.argv[1], sys.argv[2]
jobs = []
for k in ('ir', 'vi'):
    os.makedirs(os.path.join(dst, k), exist_ok=True)
    for f in sorted(os.listdir(os.path.join(src, k))):
        jobs.append((k, os.path.join(src, k, f), os.path.join(dst, k, f[:-5] + '.png')))

def conv(j):
    k, a, b = j
    im = Image.open(a)
    im.load()
    # IR was grey: cwebp stores it as RGB with R = G = B; 'L' of such a pixel is that value exactly.
    im = im.convert('L' if k == 'ir' else 'RGB')
    im.save(b, compress_level=1)
    return 1

with Pool(16) as p:
    n = sum(p.map(conv, jobs))
print(f'webp2png: {n} images from {src} to {dst}')
