#!/usr/bin/env python3
"""Runs a peer method's own inference code (from a VIF-Benchmark checkout) on CPU, to make the
reference outputs that the ports in `src/core/models/peers/` are checked against.

    /usr/bin/python3 src/cli/peers/reference_outputs.py --benchmark DIR --method tardal|ifcnn|seafusion \
        --ir DIR --vi DIR --out DIR

The method's code runs unchanged; only what a CPU-only Debian machine lacks is stood in for:
CUDA calls become no-ops (weights load onto the CPU), torchvision's ImageNet download is skipped (IFCNN's weights file holds
every layer it uses), kornia's two tensor/image helpers and the spreadsheet writers that TarDAL's
eval module imports but does not call here are replaced by minimal equivalents, and TarDAL runs
in float32 (PyTorch's CPU convolution has no float16).
"""
import argparse
import os
import sys
import types

import numpy as np
import torch
import torchvision


def cpu_only():
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.nn.Module.cuda = lambda self, *a, **k: self
    torch.cuda.synchronize = lambda *a, **k: None
    torch.cuda.empty_cache = lambda *a, **k: None
    load = torch.load
    torch.load = lambda f, *a, **k: load(f, *a, **{**k, 'map_location': 'cpu'})
    resnet101 = torchvision.models.resnet101
    torchvision.models.resnet101 = lambda pretrained=False, **k: resnet101(pretrained=False, **k)


def stand_ins():
    kornia = types.ModuleType('kornia')
    utils = types.ModuleType('kornia.utils')

    def image_to_tensor(img):
        t = torch.from_numpy(np.asarray(img))
        return t.unsqueeze(0) if t.dim() == 2 else t.permute(2, 0, 1)

    def tensor_to_image(t):
        a = t.detach().cpu().numpy()
        return a if a.ndim == 2 else a.transpose(1, 2, 0).squeeze()

    utils.image_to_tensor, utils.tensor_to_image = image_to_tensor, tensor_to_image
    kornia.utils = utils
    sys.modules.update({'kornia': kornia, 'kornia.utils': utils})
    for name in ('pandas', 'openpyxl'):
        m = types.ModuleType(name)
        m.load_workbook = None
        sys.modules.setdefault(name, m)
    if 'natsort' not in sys.modules:
        try:
            import natsort  # noqa: F401
        except ImportError:
            m = types.ModuleType('natsort')
            m.natsorted = lambda xs, **k: sorted(xs)
            sys.modules['natsort'] = m
    if 'tqdm' not in sys.modules:
        try:
            import tqdm  # noqa: F401
        except ImportError:
            m = types.ModuleType('tqdm')

            class Bar(list):
                def __init__(self, it=(), **k):
                    super().__init__(it)

                def set_description(self, *a, **k):
                    pass
            m.tqdm = Bar
            sys.modules['tqdm'] = m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--benchmark', required=True, help='a VIF-Benchmark checkout')
    ap.add_argument('--method', required=True, choices=['tardal', 'ifcnn', 'seafusion'])
    ap.add_argument('--ir', required=True)
    ap.add_argument('--vi', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--weights', help='a checkpoint other than the one VIF-Benchmark runs (path inside the checkout)')
    a = ap.parse_args()
    cpu_only()
    stand_ins()
    bench = os.path.abspath(a.benchmark)
    folder, module, weights = {
        'tardal': ('TarDAL', 'TarDAL', 'Checkpoint/TarDAL/tardal++.pt'),
        'ifcnn': ('IFCNN', 'IFCNN', 'Checkpoint/IFCNN/IFCNN-MAX.pth'),
        'seafusion': ('SeAFusion', 'SeAFusion', 'Checkpoint/SeAFusion/SeAFusion.pth'),
    }[a.method]
    sys.path.insert(0, os.path.join(bench, folder))
    if a.method == 'tardal':
        import pipeline.eval as ev
        init = ev.Eval.__init__
        ev.Eval.__init__ = lambda self, net, cudnn=True, half=False, eval=False: init(self, net, cudnn, False, eval)
    mod = __import__(module)
    mod.main(Method=folder, model_path=os.path.join(bench, a.weights or weights), ir_dir=os.path.abspath(a.ir),
             vi_dir=os.path.abspath(a.vi), save_dir=os.path.abspath(a.out), is_RGB=True)


if __name__ == '__main__':
    main()
