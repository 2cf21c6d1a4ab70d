"""pipcam for OctoPrint: the picture-in-picture stream in the Control tab
(WebRTC, MJPEG when WebRTC cannot connect), pipcam's snapshots for
timelapses, and the layout changed live from the settings.

The control token stays on the server: it is stored in the plugin's
settings, never returned by OctoPrint's settings API, and used only here,
by the layout proxy.
"""

import flask
from flask_babel import gettext

import octoprint.plugin
from octoprint.access.permissions import Permissions
from octoprint.schema.webcam import RatioEnum, Webcam, WebcamCompatibility
from octoprint.webcams import WebcamNotAbleToTakeSnapshotException

from .client import Pipcam, PipcamError, join

WEBCAM_NAME = "pipcam"


class PipcamPlugin(
    octoprint.plugin.AssetPlugin,
    octoprint.plugin.TemplatePlugin,
    octoprint.plugin.SettingsPlugin,
    octoprint.plugin.SimpleApiPlugin,
    octoprint.plugin.WebcamProviderPlugin,
):
    # ~~ SettingsPlugin

    def get_settings_defaults(self):
        return {
            # What the browser opens: same origin through OctoPi's haproxy.
            "stream_url": "/webcam/",
            # What OctoPrint's server opens (snapshots, the layout proxy).
            "internal_url": "http://127.0.0.1:8080/",
            # webrtc (MJPEG when it cannot connect) or mjpeg.
            "player": "webrtc",
            "stream_ratio": "4:3",
            "snapshot_timeout": 10,
            "token": "",
        }

    def get_settings_restricted_paths(self):
        return {"never": [["token"]]}

    def on_settings_save(self, data):
        # The token is set through the API command only (admins), never
        # through the settings dialog, which every settings reader sees.
        data.pop("token", None)
        return super().on_settings_save(data)

    def get_settings_version(self):
        return 1

    def on_settings_migrate(self, target, current):
        if current is None:
            # Installed just now: pipcam becomes OctoPrint's default webcam
            # (the Control tab, apps reading the settings API) and its
            # snapshot webcam (timelapses), unless the user had picked a
            # webcam other than the bundled classic one.
            for key in ("defaultWebcam", "snapshotWebcam"):
                if self._settings.global_get(["webcam", key]) in (None, "", "classic"):
                    self._settings.global_set(["webcam", key], WEBCAM_NAME)
                    self._logger.info("pipcam is now OctoPrint's %s", key)

    # ~~ AssetPlugin, TemplatePlugin

    def get_assets(self):
        return {"js": ["js/pipcam.js"], "css": ["css/pipcam.css"]}

    def is_template_autoescaped(self):
        return True

    def get_template_configs(self):
        return [
            {"type": "webcam", "name": "pipcam", "template": "pipcam_webcam.jinja2", "custom_bindings": True},
            {"type": "settings", "name": "pipcam", "template": "pipcam_settings.jinja2", "custom_bindings": True},
        ]

    # ~~ WebcamProviderPlugin

    def _pipcam(self):
        return Pipcam(
            self._settings.get(["internal_url"]),
            token=self._settings.get(["token"]) or "",
            timeout=float(self._settings.get_int(["snapshot_timeout"]) or 10),
        )

    def get_webcam_configurations(self):
        stream = self._settings.get(["stream_url"])
        snapshot = join(self._settings.get(["internal_url"]), "?action=snapshot")
        ratio = RatioEnum.sixteen_nine if self._settings.get(["stream_ratio"]) == "16:9" else RatioEnum.four_three
        return [
            Webcam(
                name=WEBCAM_NAME,
                displayName="pipcam",
                canSnapshot=True,
                snapshotDisplay=snapshot,
                compat=WebcamCompatibility(
                    # Older clients and apps read these: MJPEG for the
                    # stream, the snapshot as OctoPrint's server opens it.
                    stream=join(stream, "?action=stream"),
                    snapshot=snapshot,
                    streamRatio=ratio,
                    streamWebrtcIceServers=[],
                    snapshotTimeout=self._settings.get_int(["snapshot_timeout"]) or 10,
                ),
                extras={
                    "webrtc": join(stream, "webrtc"),
                    "whep": join(stream, "whep"),
                    "mjpeg": join(stream, "?action=stream"),
                },
            )
        ]

    def take_webcam_snapshot(self, webcamName):
        if webcamName not in (None, WEBCAM_NAME):
            raise WebcamNotAbleToTakeSnapshotException(webcamName)
        try:
            data = self._pipcam().snapshot()
        except PipcamError as e:
            self._logger.warning("snapshot failed: %s", e)
            raise
        return iter([data])

    # ~~ SimpleApiPlugin: the layout proxy

    def is_api_protected(self):
        return True

    def get_api_commands(self):
        return {"layout": [], "swap": [], "set_token": ["token"], "check": []}

    def on_api_get(self, request):
        if not Permissions.WEBCAM.can():
            flask.abort(403)
        out = {"token_set": bool(self._settings.get(["token"])), "can_control": Permissions.CONTROL.can()}
        try:
            out["layout"] = self._pipcam().layout()
        except PipcamError as e:
            out["error"] = str(e)
        return flask.jsonify(out)

    def on_api_command(self, command, data):
        if command == "set_token":
            if not Permissions.SETTINGS.can():
                flask.abort(403)
            token = str(data.get("token", "")).strip()
            if token and (len(token) < 16 or any(c <= " " or c > "~" for c in token)):
                return _error(400, "that is not a pipcam token: paste what `pipcam token` prints")
            self._settings.set(["token"], token)
            self._settings.save()
            self._logger.info("pipcam control token %s", "set" if token else "cleared")
            return flask.jsonify({"token_set": bool(token)})

        if not Permissions.CONTROL.can():
            flask.abort(403)
        pipcam = self._pipcam()
        try:
            if command == "check":
                return flask.jsonify({"token_ok": pipcam.check_token(), "status": _status_summary(pipcam.status())})
            if command == "swap":
                return flask.jsonify({"layout": pipcam.swap()})
            change = {k: v for k, v in data.items() if k != "command"}
            return flask.jsonify({"layout": pipcam.set_layout(change)})
        except ValueError as e:
            return _error(400, str(e))
        except PipcamError as e:
            if e.status in (401, 403):
                return _error(400, "pipcam refused the control token: set it again in the plugin's settings (`pipcam token` on the Pi prints it)")
            return _error(502 if e.status == 0 else 400, str(e))


def _error(status, message):
    resp = flask.jsonify({"error": message})
    resp.status_code = status
    return resp


def _status_summary(st):
    """The few status figures the settings page shows."""
    stream = st.get("stream") or {}
    graph = st.get("graph") or {}
    return {
        "encoder": graph.get("encoder"),
        "width": graph.get("width"),
        "height": graph.get("height"),
        "fps": stream.get("fps"),
        "bitrate_kbps": stream.get("bitrate_kbps"),
        "viewers": st.get("viewers"),
    }


__plugin_name__ = "pipcam"
__plugin_author__ = "pipcam"
__plugin_description__ = gettext(
    "Two cameras picture-in-picture from pipcam: WebRTC in the Control tab, snapshots for timelapses, the layout changed live."
)
__plugin_pythoncompat__ = ">=3.7,<4"
__plugin_implementation__ = PipcamPlugin()
