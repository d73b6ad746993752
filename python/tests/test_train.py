"""Pieces of train.py that do not need the corpus or hours of CPU."""
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from hymba_tools import config as hc  # noqa: E402
from hymba_tools import train  # noqa: E402

SAMPLE = """
Genesis 1

  1 In the beginning God created the heaven and the earth.
  2 And the earth was without form, and void.

Genesis 2

  1 Thus the heavens and the earth were finished.
"""


class TrainPiecesTest(unittest.TestCase):
    def test_parse_bible_drops_headings_and_verse_numbers(self):
        self.assertEqual(train.parse_bible(SAMPLE), [
            "In the beginning God created the heaven and the earth. "
            "And the earth was without form, and void.",
            "Thus the heavens and the earth were finished."])

    def test_split_holds_out_every_50th_chapter(self):
        tr, held = train.split([str(i) for i in range(120)])
        self.assertEqual(held, ["25", "75"])
        self.assertEqual(len(tr), 118)

    def test_batches_are_bos_then_the_stream_shifted_by_one(self):
        stream = np.arange(100, 200)
        x, y = train.batches(stream, 3, 8, 1, np.random.default_rng(0))
        self.assertEqual(tuple(x.shape), (3, 8))
        self.assertTrue((x[:, 0] == 1).all())
        self.assertTrue((x[:, 1:] == y[:, :-1]).all())
        self.assertTrue(((y[:, 1:] - y[:, :-1]) == 1).all())

    def test_lr_warms_up_then_decays_to_a_tenth(self):
        self.assertAlmostEqual(train.lr_at(0, 100, 1.0, 10), 0.1)
        self.assertAlmostEqual(train.lr_at(10, 100, 1.0, 10), 1.0)
        self.assertAlmostEqual(train.lr_at(100, 100, 1.0, 10), 0.1)

    def test_config_has_the_full_architecture(self):
        d = hc.dims_from_config(train.CONFIG)
        self.assertGreater(d.num_meta, 0)
        self.assertTrue(d.window and d.global_layers)
        self.assertTrue(any(not d.is_global(i) for i in range(d.layers)))
        self.assertTrue(any(len(g) > 1 for g in d.kv_groups))


if __name__ == "__main__":
    unittest.main()
