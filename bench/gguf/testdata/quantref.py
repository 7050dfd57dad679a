# Writes quant-vectors.bin: a reference for haloforge's Go quantizers, made with
# Debian sid's python3-gguf (gguf-py's numpy ports of ggml's quantize_row_*_ref).
# Layout: u32 n, n float32 inputs, then F16, Q8_0, Q4_0 encodings of them.
import struct, numpy as np, gguf
from gguf.quants import quantize
rng = np.random.default_rng(1234)
parts = [
    rng.standard_normal(32 * 60).astype(np.float32) * 0.02,          # weights like the tiny model's
    np.zeros(32, np.float32),                                         # all-zero block: d = 0
    np.linspace(-1, 1, 32, dtype=np.float32),                         # exact ties around .5
    -np.abs(rng.standard_normal(32).astype(np.float32)),              # largest magnitude negative
    np.abs(rng.standard_normal(32).astype(np.float32)) * 1000,        # large positive
    (rng.standard_normal(32) * 1e-6).astype(np.float32),              # subnormal halves for d
    np.array([0.5 * (i - 16) for i in range(32)], np.float32),        # half-integer grid
]
x = np.concatenate(parts).astype(np.float32)
with open("/out/quant-vectors.bin", "wb") as f:
    f.write(struct.pack("<I", x.size))
    f.write(x.tobytes())
    f.write(x.astype(np.float16).tobytes())
    f.write(quantize(x.reshape(1, -1), gguf.GGMLQuantizationType.Q8_0).tobytes())
    f.write(quantize(x.reshape(1, -1), gguf.GGMLQuantizationType.Q4_0).tobytes())
print("wrote", x.size, "values")
