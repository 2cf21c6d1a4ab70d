"""The plugin class inside OctoPrint's own settings machinery (needs
OctoPrint >= 1.9 importable: run it with OctoPrint's Python). The snapshot
test reads a real pipcam at PIPCAM_URL.
"""

import logging
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from octoprint.plugin import PluginSettings  # noqa: E402
from octoprint.schema.webcam import Webcam  # noqa: E402
from octoprint.settings import settings as octoprint_settings  # noqa: E402

import octoprint_pipcam  # noqa: E402


class PluginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.basedir = tempfile.mkdtemp()
        cls.settings = octoprint_settings(init=True, basedir=cls.basedir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.basedir, ignore_errors=True)

    def plugin(self, **settings):
        p = octoprint_pipcam.PipcamPlugin()
        p._identifier = "pipcam"
        p._logger = logging.getLogger("octoprint.plugins.pipcam")
        defaults = p.get_settings_defaults()
        p._settings = PluginSettings(self.settings, "pipcam", defaults=dict(defaults))
        for key, value in dict(defaults, **settings).items():  # each test from the defaults
            p._settings.set([key], value)
        return p

    def test_webcam_for_the_control_tab_and_timelapses(self):
        cams = self.plugin().get_webcam_configurations()
        self.assertEqual(len(cams), 1)
        cam = cams[0]
        self.assertIsInstance(cam, Webcam)
        self.assertEqual(cam.name, "pipcam")
        self.assertTrue(cam.canSnapshot)
        self.assertEqual(cam.compat.stream, "/webcam/?action=stream")
        self.assertEqual(cam.compat.snapshot, "http://127.0.0.1:8080/?action=snapshot")
        self.assertEqual(cam.extras["webrtc"], "/webcam/webrtc")

    def test_urls_follow_the_settings(self):
        cam = self.plugin(stream_url="http://pi.local:8080", internal_url="http://127.0.0.1:8081/cam/").get_webcam_configurations()[0]
        self.assertEqual(cam.compat.stream, "http://pi.local:8080/?action=stream")
        self.assertEqual(cam.compat.snapshot, "http://127.0.0.1:8081/cam/?action=snapshot")

    def test_token_never_leaves_the_server(self):
        p = self.plugin(token="secret-token-0123456789")
        self.assertIn(["token"], p.get_settings_restricted_paths()["never"])
        data = {"token": "from-a-browser-0123456789", "player": "mjpeg"}
        p.on_settings_save(data)
        self.assertEqual(p._settings.get(["token"]), "secret-token-0123456789")
        self.assertEqual(p._settings.get(["player"]), "mjpeg")
        cam = p.get_webcam_configurations()[0]
        self.assertNotIn("secret-token", repr(cam.model_dump() if hasattr(cam, "model_dump") else cam.dict()))

    def test_installing_makes_pipcam_the_default_webcam(self):
        for key in ("defaultWebcam", "snapshotWebcam"):
            self.settings.set(["webcam", key], "classic")
        self.plugin().on_settings_migrate(1, None)
        for key in ("defaultWebcam", "snapshotWebcam"):
            self.assertEqual(self.settings.get(["webcam", key]), "pipcam", key)

    def test_installing_keeps_a_webcam_the_user_chose(self):
        for key in ("defaultWebcam", "snapshotWebcam"):
            self.settings.set(["webcam", key], "multicam")
        self.plugin().on_settings_migrate(1, None)
        # A later settings version migrates nothing of OctoPrint's.
        self.settings.set(["webcam", "snapshotWebcam"], "classic")
        self.plugin().on_settings_migrate(2, 1)
        self.assertEqual(self.settings.get(["webcam", "defaultWebcam"]), "multicam")
        self.assertEqual(self.settings.get(["webcam", "snapshotWebcam"]), "classic")

    def test_snapshot_from_pipcam(self):
        url = os.environ.get("PIPCAM_URL")
        if not url:
            self.fail("PIPCAM_URL is not set: run through go test, which starts pipcam")
        data = b"".join(self.plugin(internal_url=url).take_webcam_snapshot("pipcam"))
        self.assertEqual(data[:2], b"\xff\xd8")


if __name__ == "__main__":
    unittest.main()
