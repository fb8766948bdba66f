# Sourced by go.sh on the device machine: node on the PATH, the Vulkan loader and libglvnd
# (the NVIDIA Vulkan driver needs both; the image has neither), the NVIDIA ICD, and `stamp`.
G=/root/gpu
export PATH=$G:$PATH XDG_RUNTIME_DIR=/tmp MODELS_DIR=$PWD/models
for f in $G/deb/*.deb; do dpkg -x "$f" /; done; ldconfig
for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$f" ]; then export VK_DRIVER_FILES=$f; break; fi
done
# Prefixes every line with the seconds since $T0 and a tag, so step times can be read off the log.
stamp() { python3 -u -c "
import sys, time
t0, tag = float(sys.argv[1]), sys.argv[2]
for l in sys.stdin:
    if 'artificially reduced' in l: continue
    sys.stdout.write('%8.2f %s %s' % (time.time() - t0, tag, l))
" "$T0" "$1"; }
