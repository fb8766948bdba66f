#!/usr/bin/env python3
"""Converts published fusion networks' released PyTorch weights into this project's weights format.

    /usr/bin/python3 src/cli/peers/convert_peers.py --checkpoints DIR [--out models]

DIR is the `Checkpoint/` folder of a VIF-Benchmark checkout (github.com/Linfeng-Tang/VIF-Benchmark,
MIT; the copy used is github.com/ycc568/my-seafusion). Needs Debian's python3-torch (to unpickle the
files) and numpy; run once, and the outputs under `models/peer-*/` are committed.

For each network this writes `model.json` + `weights.bin` (TensorFlow.js weights format, float32,
the format `src/core/weights/io.ts` reads) and `card.json` (source, sha256, licence, colour).
- Convolution kernels go from PyTorch's [out, in, h, w] to TensorFlow's [h, w, in, out].
- A batch norm that the network applies in inference mode is folded into the convolution before
  it (w' = w * g / sqrt(v + eps), b' = (b - m) * g / sqrt(v + eps) + beta): the same function,
  one layer fewer. A batch norm that the network's forward pass never calls (SeAFusion's decoder
  declares four) is left out.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

BN_EPS = 1e-5
VIF_BENCHMARK = 'https://github.com/Linfeng-Tang/VIF-Benchmark (copy: github.com/ycc568/my-seafusion)'

# Each peer: its checkpoint, the batch norms folded into convolutions (bn prefix -> conv prefix),
# the prefixes left out, and what the card says. Names keep PyTorch's module path with '/' for '.'.
PEERS = {
    'seafusion': {
        'file': 'SeAFusion/SeAFusion.pth',
        'fold': {},
        'drop': ['decode4.bn', 'decode3.bn', 'decode2.bn', 'decode1.bn'],
        'card': {
            'method': 'SeAFusion',
            'paper': 'L. Tang, J. Yuan, J. Ma. Image fusion in the loop of high-level vision tasks: a semantic-aware '
                     'real-time infrared and visible image fusion network. Information Fusion 82 (2022).',
            'code': 'https://github.com/Linfeng-Tang/SeAFusion',
            'colour': 'Y channel: fuses the infrared image with the visible Y (BT.601 from RGB in [0,1]); the fused Y '
                      'takes the visible Cb/Cr back (the code\'s RGB2YCrCb/YCbCr2RGB), the RGB result is stretched to '
                      'its own min..max and truncated to 8 bits, as its test script saves it.',
            'unusedInForward': 'decode1..4 declare a BatchNorm2d that forward() never calls; left out.',
        },
    },
    'tardal': {
        'file': 'TarDAL/tardal++.pt',
        'fold': {'encoder.1': 'encoder.0', 'dense.0.1': 'dense.0.0', 'dense.1.1': 'dense.1.0', 'dense.2.1': 'dense.2.0',
                 'fuse.1.1': 'fuse.1.0', 'fuse.2.1': 'fuse.2.0'},
        'drop': [],
        'card': {
            'method': 'TarDAL (TarDAL++ weights: "optimal for joint human vision and detection", the ones VIF-Benchmark runs)',
            'paper': 'J. Liu et al. Target-aware dual adversarial learning and a multi-scenario multi-modality benchmark to '
                     'fuse infrared and visible for object detection. CVPR 2022.',
            'code': 'https://github.com/JinyuanLiu-CV/TarDAL',
            'colour': 'grey: fuses the infrared image with the visible image\'s OpenCV grey (BGR2GRAY); the fused grey, '
                      'clipped to [0,1] and truncated to 8 bits, takes the visible image\'s OpenCV Cr/Cb back '
                      '(YCrCb2BGR), as its eval pipeline saves it with color=True.',
            'precision': 'VIF-Benchmark runs it in float16 on a GPU; this port runs float32.',
        },
    },
    'ifcnn': {
        'file': 'IFCNN/IFCNN-MAX.pth',
        'fold': {'conv2.bn': 'conv2.conv', 'conv3.bn': 'conv3.conv'},
        'drop': [],
        'card': {
            'method': 'IFCNN (IFCNN-MAX: element-wise maximum of the two feature maps)',
            'paper': 'Y. Zhang et al. IFCNN: a general image fusion framework based on convolutional neural network. '
                     'Information Fusion 54 (2020).',
            'code': 'https://github.com/uzeful/IFCNN',
            'colour': 'grey: both images read as OpenCV grey, repeated to three channels and normalised with the ImageNet '
                      'mean and std; the three output channels are de-normalised, clipped, truncated to 8 bits and '
                      'turned to grey with OpenCV (BGR2GRAY); that grey takes the visible image\'s PIL Cb/Cr back '
                      '(PIL YCbCr -> RGB), as VIF-Benchmark\'s IFCNN script saves it.',
        },
    },
}

LICENCE = ('The converted weights come from VIF-Benchmark (MIT licence, Copyright (c) 2023 Linfeng Tang), which '
           'redistributes each method\'s released checkpoint; the original repository (see "code") has no licence '
           'file of its own at the commits checked. Cite the paper when you report its numbers.')


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def build(name, spec, checkpoints):
    path = os.path.join(checkpoints, spec['file'])
    state = torch.load(path, map_location='cpu')
    # float64 while folding; written as float32. (Scalars such as num_batches_tracked are left out.)
    arrays = {k: v.detach().cpu().numpy().astype(np.float64) for k, v in state.items() if v.dim() > 0}
    out = {}
    for bn, conv in spec['fold'].items():
        g, beta = arrays.pop(bn + '.weight'), arrays.pop(bn + '.bias')
        m, v = arrays.pop(bn + '.running_mean'), arrays.pop(bn + '.running_var')
        scale = g / np.sqrt(v + BN_EPS)
        w = arrays.pop(conv + '.weight')
        b = arrays.pop(conv + '.bias', np.zeros(w.shape[0]))
        arrays[conv + '.weight'] = w * scale[:, None, None, None]
        arrays[conv + '.bias'] = (b - m) * scale + beta
    for prefix in spec['drop']:
        for k in [k for k in arrays if k.startswith(prefix + '.')]:
            del arrays[k]
    for k, v in arrays.items():
        module, kind = k.rsplit('.', 1)
        key = module.replace('.', '/')
        if kind == 'weight' and v.ndim == 4:
            out[key + '/kernel'] = v.transpose(2, 3, 1, 0)
        elif kind == 'bias':
            out[key + '/bias'] = v
        else:
            raise SystemExit(f'{name}: do not know where {k} {v.shape} goes')
    return path, out


def write(name, spec, src, params, out_dir):
    folder = os.path.join(out_dir, f'peer-{name}')
    os.makedirs(folder, exist_ok=True)
    names = sorted(params)
    blob = b''.join(params[n].astype('<f4').tobytes() for n in names)
    with open(os.path.join(folder, 'weights.bin'), 'wb') as f:
        f.write(blob)
    model_json = {
        'format': 'fusion-playground/params',
        'generatedBy': 'src/cli/peers/convert_peers.py',
        'convertedBy': None,
        'weightsManifest': [{'paths': ['weights.bin'],
                             'weights': [{'name': n, 'shape': list(params[n].shape), 'dtype': 'float32'} for n in names]}],
        'userDefinedMetadata': {'name': f'peer-{name}'},
    }
    with open(os.path.join(folder, 'model.json'), 'w') as f:
        json.dump(model_json, f, indent=1)
        f.write('\n')
    card = {
        'name': f'peer-{name}',
        **spec['card'],
        'source': {'benchmark': VIF_BENCHMARK, 'path': 'Checkpoint/' + spec['file'], 'sha256': sha256(src),
                   'bytes': os.path.getsize(src)},
        'licence': LICENCE,
        'conversion': {'script': 'src/cli/peers/convert_peers.py', 'torch': torch.__version__,
                       'foldedBatchNorms': sorted(spec['fold']), 'leftOut': spec['drop'],
                       'parameters': int(sum(v.size for v in params.values())), 'dtype': 'float32'},
    }
    with open(os.path.join(folder, 'card.json'), 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')
    return folder, len(blob)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--checkpoints', required=True, help="a VIF-Benchmark checkout's Checkpoint/ folder")
    ap.add_argument('--out', default='models')
    ap.add_argument('--only', nargs='*', choices=sorted(PEERS))
    a = ap.parse_args()
    for name in a.only or sorted(PEERS):
        src, params = build(name, PEERS[name], a.checkpoints)
        folder, size = write(name, PEERS[name], src, params, a.out)
        print(f'{name}: {len(params)} tensors, {size} bytes -> {folder}', file=sys.stderr)


if __name__ == '__main__':
    main()
