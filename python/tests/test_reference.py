"""Hand-checked cases for the float64 reference (python/hymba_tools/reference.py)."""
import dataclasses
import json
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import make_checkpoint, presets  # noqa: E402
from hymba_tools import reference as ref  # noqa: E402
from hymba_tools import safetensors_io as st  # noqa: E402


class ScanTest(unittest.TestCase):
    def test_constant_input_matches_closed_form(self):
        L, E, N = 9, 3, 2
        u = np.full((L, E), 0.7)
        delta = np.full((L, E), 0.3)
        A = -np.array([[1.0, 2.0], [0.5, 1.5], [3.0, 0.1]])
        B = np.full((L, N), 0.4)
        C = np.full((L, N), -1.2)
        D = np.array([0.2, 1.0, -0.5])
        z = np.zeros((L, E)) + 2.0
        y = ref.selective_scan(u, delta, A, B, C, D, z)
        a = np.exp(0.3 * A)                     # [E, N]
        b = 0.3 * 0.4 * 0.7
        for t in range(L):
            h = b * (1 - a ** (t + 1)) / (1 - a)
            expect = (h @ np.full(N, -1.2) + D * 0.7) * ref.silu(2.0)
            np.testing.assert_allclose(y[t], expect, rtol=1e-12)

    def test_softplus_threshold(self):
        self.assertEqual(ref.softplus(np.array(25.0)), 25.0)
        self.assertAlmostEqual(float(ref.softplus(np.array(0.0))), np.log(2.0))


class MaskTest(unittest.TestCase):
    def test_window_is_inclusive_and_meta_stays_visible(self):
        m = ref.attention_mask(12, window=3, num_meta=2)
        # Row 9 sees meta 0,1 plus 6..9 (W+1 = 4 keys including itself).
        self.assertEqual(list(np.nonzero(m[9])[0]), [0, 1, 6, 7, 8, 9])
        # Causal: nothing in the future.
        self.assertFalse(m[4, 5])
        # Meta queries are plain causal.
        self.assertEqual(list(np.nonzero(m[1])[0]), [0, 1])

    def test_global_mask_is_causal(self):
        m = ref.attention_mask(5, window=None, num_meta=2)
        self.assertTrue((m == np.tril(np.ones((5, 5), bool))).all())


SHARED_CONFIG = os.path.join(presets.SHARED_HYMBA, "config.json")


class PresetTest(unittest.TestCase):
    def test_hymba_1_5b_matches_the_published_config(self):
        """The preset's numbers are facts about nvidia/Hymba-1.5B-Base: every
        key it has must equal the published config.json where a copy is."""
        if not os.path.exists(SHARED_CONFIG):
            self.skipTest(f"no copy of the published config at {SHARED_CONFIG} "
                          "to compare the hymba-1.5b preset with")
        with open(SHARED_CONFIG) as f:
            real = json.load(f)
        mine = presets.get("hymba-1.5b")
        for k, v in mine.items():
            self.assertEqual(v, real.get(k), f"hymba-1.5b preset key {k}")
        dims = [dataclasses.replace(hc.dims_from_config(c), raw={})
                for c in (mine, real)]
        self.assertEqual(dims[0], dims[1])

    def test_unknown_preset_names_the_choices(self):
        with self.assertRaisesRegex(KeyError, "hymba-1.5b"):
            presets.get("no-such-preset")


class RopeTest(unittest.TestCase):
    def test_known_positions(self):
        x = np.zeros((3, 4))
        x[:, 0] = 1.0  # u_0 = 1, rotates into out_{0+d/2} = out_2
        out = ref.rope(x, np.array([0.0, 1.0, 2.0]), 10000.0, 4)
        for p in range(3):
            self.assertAlmostEqual(out[p, 0], np.cos(p))
            self.assertAlmostEqual(out[p, 2], np.sin(p))
        # Frequency 1 is base^(-2/4) = 0.01 for base 10000.
        x = np.zeros((1, 4))
        x[0, 1] = 1.0
        out = ref.rope(x, np.array([5.0]), 10000.0, 4)
        self.assertAlmostEqual(out[0, 1], np.cos(0.05))
        self.assertAlmostEqual(out[0, 3], np.sin(0.05))

    def test_ntk_base_of_hymba_1_5b(self):
        d = hc.dims_from_config(presets.preset("hymba-1.5b"))
        self.assertAlmostEqual(d.rope_base, 74534.83031811893, places=6)


class ModelStructureTest(unittest.TestCase):
    def test_hymba_1_5b_layer_roles(self):
        d = hc.dims_from_config(presets.preset("hymba-1.5b"))
        owners = [i for i in range(32) if d.owns_kv(i)]
        self.assertEqual(owners, [0, 1, 3, 5, 7, 9, 11, 13, 15, 16, 19, 21,
                                  23, 25, 27, 29, 31])
        self.assertEqual(d.kv_source(18), 16)
        self.assertEqual(d.in_proj_rows(0), 8960)
        self.assertEqual(d.in_proj_rows(2), 8000)
        n = sum(int(np.prod(s)) for s in hc.tensor_shapes(d).values())
        self.assertEqual(n, 1522797824)

    def test_consumer_reuses_producer_kv(self):
        """Changing a consumer's k/v rows of in_proj cannot matter (it has
        none), but changing the producer's k rows changes the consumer."""
        cfg = presets.preset("group3")
        d = hc.dims_from_config(cfg)
        W = {k: v.astype(np.float64) for k, v in
             make_checkpoint.random_weights(d, seed=3).items()}
        ids = [1, 4, 7, 2, 9]
        base = ref.forward(W, d, ids)
        # Perturb the k rows of producer 1: consumers 2 and 3 read them.
        W2 = dict(W)
        ip = W["model.layers.1.mamba.in_proj.weight"].copy()
        q = d.heads * d.head_dim
        ip[q:q + d.kv_heads * d.head_dim] *= 1.5
        W2["model.layers.1.mamba.in_proj.weight"] = ip
        self.assertFalse(np.allclose(ref.forward(W2, d, ids), base))
        self.assertEqual(W["model.layers.3.mamba.in_proj.weight"].shape[0],
                         q + 2 * d.d_inner)


class SafetensorsTest(unittest.TestCase):
    def test_bf16_roundtrip_and_shards(self):
        cfg = presets.preset("tiny")
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "ck")
            make_checkpoint.write_checkpoint(cfg, out, "bf16", shards=3, seed=1)
            self.assertTrue(os.path.exists(os.path.join(out, "model.safetensors.index.json")))
            W = st.read_checkpoint(out)
            d = hc.dims_from_config(cfg)
            self.assertEqual(set(W), set(hc.tensor_shapes(d)))
            raw = make_checkpoint.random_weights(d, 1)["model.embed_tokens.weight"]
            np.testing.assert_array_equal(W["model.embed_tokens.weight"],
                                          st.quantize(raw, "BF16"))
            self.assertLess(np.abs(W["model.embed_tokens.weight"] - raw).max(), 0.01)


if __name__ == "__main__":
    unittest.main()
