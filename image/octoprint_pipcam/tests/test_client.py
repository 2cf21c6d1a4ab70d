"""The plugin's pipcam client against a real pipcam.

Run by `go test ./cmd/pipcam -run TestPluginClient`, which starts the daemon
and passes its URL and control token in PIPCAM_URL and PIPCAM_TOKEN.
"""

import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "octoprint_pipcam"))

from client import Pipcam, PipcamError, join, validate_layout_change  # noqa: E402


def jpeg_size(data):
    """Width and height from a baseline JPEG's SOF0 segment."""
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker == 0xC0:
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return w, h
        i += 2 + length
    raise ValueError("no SOF0")


class LayoutChangeTest(unittest.TestCase):
    def test_only_layout_fields_pass(self):
        self.assertEqual(
            validate_layout_change({"command": "layout", "mode": "pip", "corner": "top-left", "size": 0.25, "evil": 1}),
            {"mode": "pip", "corner": "top-left", "size": 0.25},
        )

    def test_bad_values_are_refused(self):
        for bad in (
            {"mode": "fullscreen"},
            {"corner": "middle"},
            {"size": 0.9},
            {"size": True},
            {"size": "0.3"},
            {"main": "../etc"},
            {"main": ""},
            {"margin": 1000},
        ):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                validate_layout_change(bad)

    def test_join_keeps_the_prefix(self):
        self.assertEqual(join("http://127.0.0.1:8080", "?action=snapshot"), "http://127.0.0.1:8080/?action=snapshot")
        self.assertEqual(join("http://pi/webcam/", "api/layout"), "http://pi/webcam/api/layout")

    def test_repr_hides_the_token(self):
        self.assertNotIn("s3cret", repr(Pipcam("http://x/", token="s3cret-token-0123456789")))


class RealPipcamTest(unittest.TestCase):
    def setUp(self):
        self.url = os.environ.get("PIPCAM_URL")
        self.token = os.environ.get("PIPCAM_TOKEN")
        if not self.url or not self.token:
            self.fail("PIPCAM_URL and PIPCAM_TOKEN are not set: run go test ./cmd/pipcam -run TestPluginClient")
        self.pipcam = Pipcam(self.url, token=self.token)

    def test_snapshot_is_a_jpeg_of_the_composite(self):
        st = self.pipcam.status()
        w, h = jpeg_size(self.pipcam.snapshot())
        self.assertEqual((w, h), (st["graph"]["width"], st["graph"]["height"]))

    def test_layout_changes_live(self):
        self.assertTrue(self.pipcam.check_token())
        got = self.pipcam.set_layout({"corner": "top-left", "size": 0.25})
        self.assertEqual((got["corner"], got["size"]), ("top-left", 0.25))
        self.assertEqual(self.pipcam.layout()["corner"], "top-left")
        before = self.pipcam.layout()
        after = self.pipcam.swap()
        self.assertEqual((after["main"], after["inset"]), (before["inset"], before["main"]))

    def test_wrong_token_is_refused(self):
        wrong = Pipcam(self.url, token="not-the-token-0123456789")
        self.assertFalse(wrong.check_token())
        with self.assertRaises(PipcamError) as e:
            wrong.set_layout({"mode": "single"})
        self.assertEqual(e.exception.status, 401)
        self.assertNotEqual(self.pipcam.layout()["mode"], "single")

    def test_pipcam_refusal_carries_its_reason(self):
        with self.assertRaises(PipcamError) as e:
            self.pipcam.set_layout({"main": "nosuchcamera"})
        self.assertEqual(e.exception.status, 400)
        self.assertIn("nosuchcamera", str(e.exception))

    def test_unreachable_pipcam_says_so(self):
        with self.assertRaises(PipcamError) as e:
            Pipcam("http://127.0.0.1:9/", timeout=2).snapshot()
        self.assertEqual(e.exception.status, 0)
        self.assertIn("cannot reach pipcam", str(e.exception))


if __name__ == "__main__":
    unittest.main()
