/*
 * pipcam for OctoPrint: the Control tab's player and the settings page.
 *
 * The player speaks pipcam's /webrtc (camera-streamer's client offer, the
 * flow OctoPrint's classic webcam uses for webrtc:// URLs) and falls back to
 * MJPEG (?action=stream), saying why. Layout changes go through the plugin's
 * API, which holds the control token on the server.
 */
$(function () {
    "use strict";

    var FIRST_FRAME_MS = 10000;

    // base resolves the stream URL setting (/webcam/ or http://pi:8080/)
    // against the page, with a trailing slash so relative paths append.
    function base(streamUrl) {
        var u = (streamUrl || "/webcam/").trim();
        if (u.slice(-1) !== "/") u += "/";
        return new URL(u, window.location.href);
    }

    function gathered(pc, ms) {
        if (pc.iceGatheringState === "complete") return Promise.resolve();
        return new Promise(function (resolve) {
            var timer = setTimeout(resolve, ms);
            pc.addEventListener("icegatheringstatechange", function check() {
                if (pc.iceGatheringState === "complete") {
                    clearTimeout(timer);
                    pc.removeEventListener("icegatheringstatechange", check);
                    resolve();
                }
            });
        });
    }

    function framesDecoded(pc) {
        return pc.getStats().then(function (report) {
            var n = 0;
            report.forEach(function (s) {
                if (s.type === "inbound-rtp" && s.kind === "video") n = s.framesDecoded || 0;
            });
            return n;
        });
    }

    function firstFrame(pc, ms) {
        var deadline = Date.now() + ms;
        return new Promise(function (resolve, reject) {
            (function tick() {
                if (pc.connectionState === "failed") {
                    return reject(new Error("WebRTC could not connect (ICE failed): UDP to the Pi may be blocked"));
                }
                framesDecoded(pc).then(function (n) {
                    if (n > 0) return resolve();
                    if (Date.now() > deadline) return reject(new Error("no WebRTC video within " + ms / 1000 + " s (state " + pc.connectionState + ")"));
                    setTimeout(tick, 200);
                }, function () { setTimeout(tick, 200); });
            })();
        });
    }

    // playWebRTC offers to pipcam's /webrtc and resolves with the peer
    // connection once a frame is decoded.
    function playWebRTC(video, streamUrl) {
        if (typeof RTCPeerConnection !== "function") {
            return Promise.reject(new Error("this browser has no WebRTC"));
        }
        var pc = new RTCPeerConnection({iceServers: []});
        pc.addTransceiver("video", {direction: "recvonly"});
        pc.addEventListener("track", function (ev) {
            try { if ("jitterBufferTarget" in ev.receiver) ev.receiver.jitterBufferTarget = 0; } catch (e) { /* older browser */ }
            try { ev.receiver.playoutDelayHint = 0; } catch (e) { /* not Chromium */ }
            video.srcObject = ev.streams[0] || new MediaStream([ev.track]);
            video.play().catch(function () { /* muted autoplay */ });
        });
        return pc.createOffer()
            .then(function (offer) { return pc.setLocalDescription(offer); })
            .then(function () { return gathered(pc, 2000); })
            .then(function () {
                return fetch(new URL("webrtc", base(streamUrl)), {
                    method: "POST",
                    headers: {"Content-Type": "application/json"},
                    body: JSON.stringify({type: "offer", sdp: pc.localDescription.sdp})
                });
            })
            .then(function (res) {
                return res.text().then(function (body) {
                    if (!res.ok) throw new Error("pipcam refused the WebRTC offer: " + res.status + " " + body.trim());
                    var answer = JSON.parse(body);
                    if (answer.type !== "answer") throw new Error("pipcam answered the offer with " + answer.type);
                    return pc.setRemoteDescription(answer);
                });
            })
            .then(function () { return firstFrame(pc, FIRST_FRAME_MS); })
            .then(function () { return pc; }, function (err) { pc.close(); throw err; });
    }

    function errorOf(xhr) {
        return (xhr && xhr.responseJSON && xhr.responseJSON.error) || (xhr && xhr.statusText) || "failed";
    }

    // ---- the Control tab

    function PipcamWebcamViewModel(parameters) {
        var self = this;
        self.loginState = parameters[0];
        self.access = parameters[1];
        self.settings = parameters[2];

        self.mode = ko.observable("idle"); // idle | connecting | webrtc | mjpeg
        self.reason = ko.observable("");
        self.layout = ko.observable(null);
        self.layoutError = ko.observable("");
        self.pc = null;
        self.gen = 0; // bumped by stop: a connection still being made is dropped
        self.visible = false;
        self.stopTimer = undefined;
        window.pipcamPlugin = self; // for tests and devtools

        self.cfg = function () { return self.settings.settings.plugins.pipcam; };
        self.ratioClass = ko.pureComputed(function () {
            return self.cfg().stream_ratio() === "16:9" ? "ratio169" : "ratio43";
        });
        self.canControl = ko.pureComputed(function () {
            return self.loginState.hasPermission(self.access.permissions.CONTROL);
        });
        self.hasInset = ko.pureComputed(function () {
            var l = self.layout();
            return !!(l && l.inset);
        });

        // OctoPrint 1.11's Control tab shows the first of several webcams
        // (by name: "Classic Webcam") unless this browser picked one. Show
        // pipcam when it is OctoPrint's default webcam (the plugin makes
        // it so when installed) and the browser has no choice of its own.
        self.onAllBound = function () {
            var key = "core.control.selectedCamera"; // OctoPrint's own key
            try {
                if (!localStorage[key] && self.settings.webcam_defaultWebcam() === "pipcam" &&
                    document.getElementById("webcam_plugin_pipcam_link")) {
                    localStorage[key] = "#webcam_plugin_pipcam";
                }
            } catch (e) { /* no storage: OctoPrint's own choice */ }
        };

        self.onWebcamVisibilityChange = function (visible) {
            self.visible = visible;
            if (visible) {
                clearTimeout(self.stopTimer);
                if (self.mode() === "idle") self.start();
                self.loadLayout();
            } else {
                // A tab switch back and forth should not reconnect.
                self.stopTimer = setTimeout(self.stop, 5000);
            }
        };

        self.onWebcamRefresh = function () {
            self.stop();
            self.start();
        };

        self.onEventSettingsUpdated = function () {
            if (self.visible) self.onWebcamRefresh();
        };

        self.start = function () {
            var url = self.cfg().stream_url();
            self.reason("");
            if (self.cfg().player() === "mjpeg") return self.showMJPEG("");
            self.mode("connecting");
            var gen = self.gen;
            playWebRTC(document.getElementById("pipcam_video"), url).then(function (pc) {
                if (gen !== self.gen) { pc.close(); return; }
                self.pc = pc;
                self.mode("webrtc");
                pc.addEventListener("connectionstatechange", function () {
                    if (self.pc === pc && pc.connectionState === "failed") {
                        self.stop();
                        self.showMJPEG("the WebRTC connection failed");
                    }
                });
            }, function (err) {
                if (gen === self.gen) self.showMJPEG(err.message);
            });
        };

        self.showMJPEG = function (why) {
            self.reason(why ? "WebRTC: " + why + ". Showing MJPEG instead." : "");
            document.getElementById("pipcam_mjpeg").src = new URL("?action=stream", base(self.cfg().stream_url())).href;
            self.mode("mjpeg");
        };

        self.stop = function () {
            self.gen++;
            self.stopTimer = undefined;
            if (self.pc) { self.pc.close(); self.pc = null; }
            var img = document.getElementById("pipcam_mjpeg");
            if (img) img.removeAttribute("src"); // ends the MJPEG stream
            self.mode("idle");
        };

        self.loadLayout = function () {
            OctoPrint.simpleApiGet("pipcam").done(function (r) {
                self.layout(r.layout || null);
                self.layoutError(r.error || "");
            });
        };

        self.command = function (cmd, data) {
            self.layoutError("");
            OctoPrint.simpleApiCommand("pipcam", cmd, data || {})
                .done(function (r) { self.layout(r.layout); })
                .fail(function (xhr) { self.layoutError(errorOf(xhr)); });
        };
        self.swap = function () { self.command("swap"); };
        self.setMode = function (mode) { self.command("layout", {mode: mode}); };
    }

    // ---- the settings page

    function PipcamSettingsViewModel(parameters) {
        var self = this;
        self.settingsVM = parameters[0];
        self.settings = undefined;
        self.corners = ["top-left", "top-right", "bottom-left", "bottom-right"];

        self.newToken = ko.observable("");
        self.tokenSet = ko.observable(false);
        self.checkResult = ko.observable("");
        self.checkFailed = ko.observable(false);
        self.layout = ko.observable(null);
        self.layoutError = ko.observable("");
        self.layoutSize = ko.observable(0.3);

        self.layoutMode = ko.pureComputed(function () { var l = self.layout(); return l ? l.mode : ""; });
        self.layoutCorner = ko.pureComputed(function () { var l = self.layout(); return l ? l.corner : ""; });
        self.hasInset = ko.pureComputed(function () { var l = self.layout(); return !!(l && l.inset); });
        self.layoutText = ko.pureComputed(function () {
            var l = self.layout();
            if (!l) return "";
            return "main: " + l.main + (l.inset ? ", inset: " + l.inset : "") + ", " + l.mode + ", " + l.corner + ", " + Math.round(l.size * 100) + " %";
        });

        self.onBeforeBinding = function () {
            self.settings = self.settingsVM.settings.plugins.pipcam;
        };

        self.onSettingsShown = function () {
            self.refresh();
        };

        self.refresh = function () {
            OctoPrint.simpleApiGet("pipcam").done(function (r) {
                self.tokenSet(!!r.token_set);
                self.showLayout(r.layout);
                self.layoutError(r.error || "");
            });
        };

        self.showLayout = function (l) {
            self.layout(l || null);
            if (l) self.layoutSize(l.size);
        };

        self.saveToken = function () {
            OctoPrint.simpleApiCommand("pipcam", "set_token", {token: self.newToken()})
                .done(function (r) { self.tokenSet(!!r.token_set); self.newToken(""); self.check(); })
                .fail(function (xhr) { self.checkFailed(true); self.checkResult(errorOf(xhr)); });
        };

        self.clearToken = function () {
            OctoPrint.simpleApiCommand("pipcam", "set_token", {token: ""})
                .done(function (r) { self.tokenSet(!!r.token_set); });
        };

        self.check = function () {
            self.checkResult("…");
            OctoPrint.simpleApiCommand("pipcam", "check", {})
                .done(function (r) {
                    var s = r.status || {};
                    self.checkFailed(!r.token_ok);
                    self.checkResult(
                        "pipcam: " + s.width + "×" + s.height + " at " + s.fps + " fps, " + s.bitrate_kbps + " kbit/s (" + s.encoder + "), " +
                        s.viewers + " WebRTC viewers; " + (r.token_ok ? "the token works" : "the token is missing or wrong")
                    );
                })
                .fail(function (xhr) { self.checkFailed(true); self.checkResult(errorOf(xhr)); });
        };

        self.command = function (cmd, data) {
            self.layoutError("");
            OctoPrint.simpleApiCommand("pipcam", cmd, data || {})
                .done(function (r) { self.showLayout(r.layout); })
                .fail(function (xhr) { self.layoutError(errorOf(xhr)); });
        };
        self.setLayout = function (change) { self.command("layout", change); };
        self.swap = function () { self.command("swap"); };
        self.insetOnly = function () {
            var l = self.layout();
            if (l) self.setLayout({mode: "single", main: l.inset, inset: l.main});
        };
        self.sizeChanged = function () { self.setLayout({size: Number(self.layoutSize())}); };
    }

    OCTOPRINT_VIEWMODELS.push({
        construct: PipcamWebcamViewModel,
        dependencies: ["loginStateViewModel", "accessViewModel", "settingsViewModel"],
        elements: ["#pipcam_container"]
    });
    OCTOPRINT_VIEWMODELS.push({
        construct: PipcamSettingsViewModel,
        dependencies: ["settingsViewModel"],
        elements: ["#pipcam_settings"]
    });
});
