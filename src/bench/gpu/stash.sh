#!/bin/bash
# Device call 1 (carrying .gpu2): parks the larger part of the training data on the machine for
# call 2, which must follow while the machine is still warm (30 s).
mkdir -p /root/stash && cp -r .gpu2/webp /root/stash/ && echo "stashed $(ls /root/stash/webp/ir | wc -l) pairs"
