"""The PyTorch model (training, perplexity) against the float64 reference."""
import math
import os
import sys
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import hymba_torch as ht  # noqa: E402
from hymba_tools import make_checkpoint, presets  # noqa: E402
from hymba_tools import perplexity as ppl  # noqa: E402
from hymba_tools import reference as ref  # noqa: E402
from hymba_tools import train  # noqa: E402


def model_and_weights(cfg, seed):
    d = hc.dims_from_config(cfg)
    W = {k: v.astype(np.float64)
         for k, v in make_checkpoint.random_weights(d, seed).items()}
    m = ht.Hymba(d, {k: torch.from_numpy(v) for k, v in W.items()}).double()
    return d, W, m


class SameMathTest(unittest.TestCase):
    def test_presets_match_reference_in_float64(self):
        """Every test preset (no meta tokens, untied head, KV groups of three,
        GQA, windows of 2, odd sizes) and the shipped model's config."""
        cfgs = [presets.get(n) for n in ("tiny", "nometa", "group3", "odd")]
        small = dict(train.CONFIG, vocab_size=300, hidden_size=48,
                     intermediate_size=40, sliding_window=5)
        for cfg in cfgs + [small]:
            d, W, m = model_and_weights(cfg, seed=7)
            rng = np.random.default_rng(3)
            batch = [list(rng.integers(0, d.vocab, 12)) for _ in range(2)]
            with torch.no_grad():
                got = m(torch.tensor(batch)).numpy()
            for b, ids in enumerate(batch):
                want = ref.forward(W, d, ids)
                err = np.abs(got[b] - want).max() / np.abs(want).max()
                self.assertLess(err, 1e-12, f"{cfg['hidden_size']} row {b}")

    def test_every_parameter_gets_a_gradient(self):
        d, W, m = model_and_weights(presets.get("tiny"), seed=1)
        m(torch.tensor([[1, 5, 9, 3, 2, 8, 7, 6, 4]])).sum().backward()
        for n, p in m.weights().items():
            self.assertIsNotNone(p.grad, n)
            self.assertGreater(float(p.grad.abs().sum()), 0.0, n)

    def test_init_weights_has_every_tensor_and_a_seed(self):
        d = hc.dims_from_config(train.CONFIG)
        a, b = ht.init_weights(d, 5), ht.init_weights(d, 5)
        self.assertEqual(set(a), set(hc.tensor_shapes(d)))
        for n, shape in hc.tensor_shapes(d).items():
            self.assertEqual(tuple(a[n].shape), shape, n)
            self.assertTrue(torch.equal(a[n], b[n]), n)
        self.assertFalse(torch.equal(
            a["model.embed_tokens.weight"],
            ht.init_weights(d, 6)["model.embed_tokens.weight"]))


class ScanGradientTest(unittest.TestCase):
    def test_hand_written_backward_matches_autograd(self):
        """_SelectiveScan's reverse recurrence against autograd's numerical
        check, and the scan against the reference's."""
        g = torch.Generator().manual_seed(0)
        L, B, E, N = 5, 2, 3, 4
        args = (torch.rand(L, B, E, generator=g, dtype=torch.float64),
                -torch.rand(E, N, generator=g, dtype=torch.float64) - 0.2,
                torch.randn(L, B, E, generator=g, dtype=torch.float64),
                torch.randn(L, B, N, generator=g, dtype=torch.float64),
                torch.randn(L, B, N, generator=g, dtype=torch.float64))
        self.assertTrue(torch.autograd.gradcheck(
            ht._SelectiveScan.apply, tuple(v.requires_grad_() for v in args)))
        rng = np.random.default_rng(1)
        L, E, N = 7, 3, 2
        u, z = rng.standard_normal((L, E)), rng.standard_normal((L, E))
        delta = rng.uniform(0.01, 0.5, (L, E))
        A = -rng.uniform(0.5, 2, (E, N))
        B, C = rng.standard_normal((L, N)), rng.standard_normal((L, N))
        D = rng.standard_normal(E)
        want = ref.selective_scan(u, delta, A, B, C, D, z)
        t = lambda x: torch.from_numpy(x)[None] if x.ndim == 2 and x.shape[0] == L \
            else torch.from_numpy(x)
        got = ht.selective_scan(t(u), t(delta), t(A), t(B), t(C), t(D), t(z))
        np.testing.assert_allclose(got[0].numpy(), want, rtol=1e-12, atol=1e-12)


class PerplexityTest(unittest.TestCase):
    def test_chunked_nll_matches_reference(self):
        """mean_nll == the reference's log-softmax over each BOS + chunk."""
        d, W, m = model_and_weights(presets.get("tiny"), seed=2)
        ids = list(np.random.default_rng(4).integers(3, d.vocab, 17))
        ctx, bos = 6, 1
        total, n = 0.0, 0
        for s in range(0, len(ids), ctx - 1):  # chunks of 5; the last has 2
            chunk = ids[s:s + ctx - 1]
            logits = ref.forward(W, d, [bos] + chunk[:-1])
            lse = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) \
                + logits.max(1)
            total += float(sum(lse[j] - logits[j, t] for j, t in enumerate(chunk)))
            n += len(chunk)
        self.assertEqual(ppl.chunks(17, ctx), [(0, 5), (5, 10), (10, 15), (15, 17)])
        got = ppl.mean_nll(m, ids, ctx, bos)
        self.assertAlmostEqual(got, total / n, places=10)
        self.assertGreater(math.exp(got), 1.0)


if __name__ == "__main__":
    unittest.main()
