"""A small client for pipcam's HTTP API: snapshots, status and the layout.

Standard library only, so it runs (and is tested) without OctoPrint.
"""

import json
import re
import urllib.error
import urllib.parse
import urllib.request

MODES = ("pip", "single", "side-by-side")
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
_CAMERA = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class PipcamError(Exception):
    """pipcam could not be reached or refused; status is its HTTP status (0 when unreachable)."""

    def __init__(self, message, status=0):
        super().__init__(message)
        self.status = status


def join(base, path):
    """Resolves path against pipcam's base URL, which may carry a prefix (/webcam/)."""
    if not base.endswith("/"):
        base += "/"
    return urllib.parse.urljoin(base, path)


def validate_layout_change(data):
    """Returns the layout fields of data, checked, or raises ValueError.

    Only these fields are ever sent to pipcam: the plugin proxies a layout
    change, not arbitrary JSON.
    """
    change = {}
    if "mode" in data:
        if data["mode"] not in MODES:
            raise ValueError("mode must be one of " + ", ".join(MODES))
        change["mode"] = data["mode"]
    if "corner" in data:
        if data["corner"] not in CORNERS:
            raise ValueError("corner must be one of " + ", ".join(CORNERS))
        change["corner"] = data["corner"]
    for key in ("main", "inset"):
        if key in data:
            v = data[key]
            if not isinstance(v, str) or not (v == "" and key == "inset" or _CAMERA.match(v)):
                raise ValueError(key + " must be a camera name")
            change[key] = v
    if "size" in data:
        v = data["size"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.1 <= v <= 0.5:
            raise ValueError("size must be a number from 0.1 to 0.5")
        change["size"] = float(v)
    if "margin" in data:
        v = data["margin"]
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 200:
            raise ValueError("margin must be a whole number from 0 to 200")
        change["margin"] = v
    return change


class Pipcam:
    """pipcam at base_url (e.g. http://127.0.0.1:8080/), with its control token."""

    def __init__(self, base_url, token="", timeout=5.0):
        self.base_url = base_url
        self._token = token
        self.timeout = timeout

    def __repr__(self):  # never the token
        return "Pipcam(%r)" % self.base_url

    def _request(self, method, path, body=None, auth=False):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth and self._token:
            headers["Authorization"] = "Bearer " + self._token
        req = urllib.request.Request(join(self.base_url, path), data=data, headers=headers, method=method)
        try:
            resp = urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            raise PipcamError(_reason(e), e.code) from None
        except (urllib.error.URLError, OSError) as e:
            raise PipcamError("cannot reach pipcam at %s: %s" % (self.base_url, getattr(e, "reason", e))) from None
        with resp:
            return resp.headers.get("Content-Type", ""), resp.read()

    def _json(self, method, path, body=None, auth=False):
        _, raw = self._request(method, path, body, auth)
        try:
            return json.loads(raw)
        except ValueError:
            raise PipcamError("pipcam answered %s with something that is not JSON" % path) from None

    def snapshot(self):
        """One JPEG of the composite."""
        ctype, raw = self._request("GET", "?action=snapshot")
        if not ctype.startswith("image/jpeg") or raw[:2] != b"\xff\xd8":
            raise PipcamError("pipcam's snapshot is not a JPEG (%s)" % ctype)
        return raw

    def status(self):
        return self._json("GET", "api/status")

    def layout(self):
        return self._json("GET", "api/layout")

    def set_layout(self, change):
        """Applies a layout change (checked first) and returns the layout pipcam applied."""
        return self._json("PUT", "api/layout", validate_layout_change(change), auth=True)

    def swap(self):
        now = self.layout()
        if not now.get("inset"):
            raise PipcamError("there is only one camera: nothing to swap", 400)
        return self.set_layout({"main": now["inset"], "inset": now["main"]})

    def check_token(self):
        """True when pipcam takes the token (an empty change applies nothing)."""
        try:
            self._json("PUT", "api/layout", {}, auth=True)
        except PipcamError as e:
            if e.status in (401, 403):
                return False
            raise
        return True


def _reason(err):
    """pipcam's own reason from an error reply ({"error": ...} or text)."""
    try:
        body = err.read(4096).decode("utf-8", "replace")
    except OSError:
        body = ""
    try:
        msg = json.loads(body).get("error", "")
    except (ValueError, AttributeError):
        msg = body.strip()
    return "pipcam: %d %s" % (err.code, msg or err.reason)
