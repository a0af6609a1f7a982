"""The JavaScript SDK in Chromium, loaded as an ES module from the running server
(/static/wedsync-realtime/index.js), against the real gateway: a restart mid-stream, the
browser going offline and online, and a page reload that resumes from localStorage."""

from __future__ import annotations

import time

import pytest

START = """async ([base, wsUrl, token, topic]) => {
  const { RealtimeClient } = await import(base + "/static/wedsync-realtime/index.js");
  window.got = []; window.gaps = []; window.states = []; window.closes = [];
  const client = new RealtimeClient({ url: wsUrl, token, storage: window.localStorage });
  client.on("state", (s) => window.states.push(s));
  client.on("close", (c) => window.closes.push(c.code));
  client.subscribe(topic, {
    onMessage: (data, meta) => window.got.push([meta.seq, data.n, meta.replayed]),
    onGap: (info) => window.gaps.push(info),
  });
  window.client = client;
  await client.connect();
  return client.hello;
}"""


def _seqs(page) -> list[list]:
    return page.evaluate("window.got")


def _wait(page, expr: str, timeout_s: float = 30) -> None:
    """Poll from here: the page's CSP (script-src 'self') forbids wait_for_function's eval."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"() => Boolean({expr})"):
        if time.monotonic() > deadline:
            state = page.evaluate("() => [window.states, window.closes, window.got.slice(-3)]")
            raise AssertionError(f"not within {timeout_s}s: {expr}; state {state}")
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_sdk_in_chromium_survives_restart_offline_and_reload(rig, browser):
    topic = rig.topics[0]
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"{rig.server.url}/healthz")
    hello = page.evaluate(START, [rig.server.url, rig.ws_url, rig.token, topic])
    assert hello["op"] == "hello" and hello["reconnect"]["min_ms"] > 0
    _wait(page, "window.client.subscribe && window.states.includes('connected')")
    acked = [rig.publish(topic, {"n": n}) for n in range(1, 6)]
    _wait(page, "window.got.length === 5")

    # A deploy restarts the web process while messages keep coming.
    rig.restart()
    acked += [rig.publish(topic, {"n": n}) for n in range(6, 11)]
    _wait(page, f"window.got.length && window.got.at(-1)[0] >= {acked[-1]}")
    assert page.evaluate("window.closes[0]") == 1012

    # The network goes away (the browser says so) and comes back.
    context.set_offline(True)
    _wait(page, "window.client.state === 'disconnected'", 10)
    time.sleep(0.5)
    acked += [rig.publish(topic, {"n": n}) for n in range(11, 14)]
    context.set_offline(False)
    _wait(page, f"window.got.length && window.got.at(-1)[0] >= {acked[-1]}", 20)

    # The app is reloaded while away: it resumes from the position in localStorage.
    page.reload()
    acked += [rig.publish(topic, {"n": n}) for n in range(14, 18)]
    page.evaluate(START, [rig.server.url, rig.ws_url, rig.token, topic])
    _wait(page, "window.got.length >= 4")
    after_reload = _seqs(page)
    context.close()

    replayed = [row for row in after_reload if row[2]]
    assert [row[1] for row in replayed] == [14, 15, 16, 17]
    assert [row[0] for row in after_reload] == acked[-4:]
