#!/usr/bin/python3
"""A real RTSP camera for pipcam's tests: GStreamer's RTSP server (Debian's
gir1.2-gst-rtsp-server-1.0 and python3-gi) serving a solid-colour H.264
stream at rtsp://127.0.0.1:PORT/cam.

usage: rtsp_server.py PORT PATTERN WIDTH HEIGHT FPS

Reads commands on stdin, one a line, and answers each on stdout:
  stall   -> "stalled": every stream (and any new one) stops sending, the
             RTSP connections stay open
  resume  -> "resumed"
Prints "ready" once it listens.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

port, pattern, width, height, fps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
Gst.init(None)

valves = []
stalled = False

factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    "( videotestsrc is-live=true pattern=%s ! video/x-raw,width=%d,height=%d,framerate=%d/1 "
    "! valve name=stall ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%d "
    "! rtph264pay name=pay0 pt=96 config-interval=-1 )" % (pattern, width, height, fps, fps)
)


def on_configure(_factory, media):
    valve = media.get_element().get_by_name("stall")
    valve.set_property("drop", stalled)
    valves.append(valve)


factory.connect("media-configure", on_configure)

server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
server.get_mount_points().add_factory("/cam", factory)
if server.attach(None) == 0:
    print("cannot listen on port %s" % port, flush=True)
    sys.exit(1)


def on_stdin(source, _condition):
    global stalled
    line = source.readline()
    if not line:
        loop.quit()
        return False
    cmd = line.strip()
    if cmd in ("stall", "resume"):
        stalled = cmd == "stall"
        for v in valves:
            v.set_property("drop", stalled)
        print("stalled" if stalled else "resumed", flush=True)
    return True


loop = GLib.MainLoop()
GLib.io_add_watch(sys.stdin, GLib.IO_IN | GLib.IO_HUP, on_stdin)
print("ready", flush=True)
loop.run()
